"""Grains, date presets and like-for-like comparison windows (answers worked out by hand)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import UserInputError
from core.kpis import grains
from core.kpis.cohorts import window_for
from core.kpis.periods import CUSTOM, Window, comparisons, resolve, shift_year


@pytest.mark.parametrize(
    ("day", "grain", "start", "label"),
    [
        (date(2024, 2, 29), "day", date(2024, 2, 29), "2024-02-29"),
        (date(2025, 1, 1), "week", date(2024, 12, 30), "2025-W01"),  # a Wednesday
        (date(2024, 12, 29), "week", date(2024, 12, 23), "2024-W52"),  # a Sunday
        (date(2021, 1, 3), "week", date(2020, 12, 28), "2020-W53"),  # 2020 had 53 ISO weeks
        (date(2024, 2, 29), "month", date(2024, 2, 1), "2024-02"),
        (date(2024, 8, 15), "quarter", date(2024, 7, 1), "2024-Q3"),
        (date(2024, 12, 31), "year", date(2024, 1, 1), "2024"),
    ],
)
def test_truncate_and_label(day, grain, start, label):
    assert grains.truncate(day, grain) == start
    assert grains.label(start, grain) == label


def test_period_steps_and_ranges():
    assert grains.step(date(2024, 1, 31), "month") == date(2024, 2, 29)  # clipped, leap year
    assert grains.step(date(2024, 11, 1), "quarter") == date(2025, 2, 1)
    assert grains.step(date(2024, 1, 1), "week", -1) == date(2023, 12, 25)
    assert grains.period_starts(date(2024, 1, 10), date(2024, 3, 1), "month") == [
        date(2024, 1, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
    ]
    assert grains.days_in_month(2024, 2) == 29 and grains.days_in_month(2023, 2) == 28
    with pytest.raises(UserInputError, match="Unknown grain 'hour': choose day, week"):
        grains.check_grain("hour")


def test_shift_year_moves_leap_day_to_28_february():
    assert shift_year(date(2024, 2, 29)) == date(2023, 2, 28)
    assert shift_year(date(2025, 3, 1)) == date(2024, 3, 1)


@pytest.mark.parametrize(
    ("preset", "asof", "window", "previous", "last_year"),
    [
        # Month to date on the 15th: the first 15 days of the previous month.
        (
            "mtd",
            date(2026, 8, 15),
            (date(2026, 8, 1), date(2026, 8, 15)),
            (date(2026, 7, 1), date(2026, 7, 15)),
            (date(2025, 8, 1), date(2025, 8, 15)),
        ),
        # 31 March: 31 days, but February 2024 has 29, so the previous period stops there.
        (
            "mtd",
            date(2024, 3, 31),
            (date(2024, 3, 1), date(2024, 3, 31)),
            (date(2024, 2, 1), date(2024, 2, 29)),
            (date(2023, 3, 1), date(2023, 3, 31)),
        ),
        # Leap day: last year's window ends on 28 February.
        (
            "mtd",
            date(2024, 2, 29),
            (date(2024, 2, 1), date(2024, 2, 29)),
            (date(2024, 1, 1), date(2024, 1, 29)),
            (date(2023, 2, 1), date(2023, 2, 28)),
        ),
        (
            "qtd",
            date(2024, 5, 10),
            (date(2024, 4, 1), date(2024, 5, 10)),
            (date(2024, 1, 1), date(2024, 2, 9)),
            (date(2023, 4, 1), date(2023, 5, 10)),
        ),
        (
            "ytd",
            date(2024, 12, 31),
            (date(2024, 1, 1), date(2024, 12, 31)),
            (date(2023, 1, 1), date(2023, 12, 31)),
            (date(2023, 1, 1), date(2023, 12, 31)),
        ),
        (
            "last_7",
            date(2025, 1, 3),
            (date(2024, 12, 28), date(2025, 1, 3)),
            (date(2024, 12, 21), date(2024, 12, 27)),
            (date(2023, 12, 28), date(2024, 1, 3)),
        ),
        # 30 days to 1 March 2024 start on 1 February (February has 29 days).
        (
            "last_30",
            date(2024, 3, 1),
            (date(2024, 2, 1), date(2024, 3, 1)),
            (date(2024, 1, 2), date(2024, 1, 31)),
            (date(2023, 2, 1), date(2023, 3, 1)),
        ),
        (
            "last_90",
            date(2024, 3, 31),
            (date(2024, 1, 2), date(2024, 3, 31)),
            (date(2023, 10, 4), date(2024, 1, 1)),
            (date(2023, 1, 2), date(2023, 3, 31)),
        ),
        # The as-of date is a month's last day: that month is the last full one.
        (
            "last_month",
            date(2024, 2, 29),
            (date(2024, 2, 1), date(2024, 2, 29)),
            (date(2024, 1, 1), date(2024, 1, 31)),
            (date(2023, 2, 1), date(2023, 2, 28)),
        ),
        (
            "last_month",
            date(2024, 3, 15),
            (date(2024, 2, 1), date(2024, 2, 29)),
            (date(2024, 1, 1), date(2024, 1, 31)),
            (date(2023, 2, 1), date(2023, 2, 28)),
        ),
    ],
)
def test_presets_and_their_comparisons(preset, asof, window, previous, last_year):
    got = resolve(preset, asof)
    assert (got.start, got.end) == window
    before, year_ago = comparisons(preset, got)
    assert (before.window.start, before.window.end) == previous
    assert (year_ago.window.start, year_ago.window.end) == last_year
    assert before.label == "previous period" and year_ago.label == "same period last year"


def test_custom_range_compares_with_the_days_just_before():
    window = resolve(CUSTOM, date(2024, 6, 1), date(2024, 3, 1), date(2024, 3, 10))
    before, _ = comparisons(CUSTOM, window)
    assert (before.window.start, before.window.end) == (date(2024, 2, 20), date(2024, 2, 29))
    assert before.describe() == "vs previous period: 20 Feb 2024 – 29 Feb 2024 (10 days)"


def test_bad_windows_say_what_to_fix():
    with pytest.raises(UserInputError, match="A custom range needs both a start and an end"):
        resolve(CUSTOM, date(2024, 1, 1))
    with pytest.raises(UserInputError, match="before the start date"):
        Window(date(2024, 1, 2), date(2024, 1, 1))
    with pytest.raises(UserInputError, match="Unknown date preset 'yesterday'"):
        resolve("yesterday", date(2024, 1, 1))


def test_cohorts_shown_with_a_window_cover_the_twelve_months_to_its_end():
    short = window_for(Window(date(2026, 7, 3), date(2026, 9, 30)), date(2023, 10, 1))
    assert (short.start, short.end) == (date(2025, 10, 1), date(2026, 9, 30))
    young = window_for(Window(date(2024, 2, 1), date(2024, 2, 29)), date(2023, 12, 31))
    assert young.start == date(2023, 12, 31)  # not before the data starts
    year = Window(date(2023, 1, 1), date(2024, 12, 31))
    assert window_for(year, date(2020, 1, 1)) == year

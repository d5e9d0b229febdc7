"""Cron and interval fire times, DST included (America/New_York and Europe/Berlin, 2026).

Expected instants were worked out by hand from the zones' rules: New York leaves DST on
1 Nov 2026 (02:00 EDT -> 01:00 EST) and enters it on 8 Mar 2026 (02:00 EST -> 03:00 EDT);
Berlin leaves on 25 Oct 2026 (03:00 CEST -> 02:00 CET) and enters on 29 Mar 2026
(02:00 CET -> 03:00 CEST).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.workflows.schedule import cron_times, interval_times, next_cron, next_interval


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def fires(expression: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in (start, end], found by stepping next_cron."""
    found, moment = [], start
    while (moment := next_cron(expression, zone, moment)) is not None and moment <= end:
        found.append(moment)
    return found


@pytest.mark.parametrize(
    ("zone", "expression", "day", "expected"),
    [
        # Autumn: 01:30 exists twice in New York; a daily job runs once, at the first.
        ("America/New_York", "30 1 * * *", utc(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
        ("America/New_York", "30 2 * * *", utc(2026, 11, 1), utc(2026, 11, 1, 7, 30)),
        # Spring: 02:30 does not exist; the job runs at 03:00 EDT instead of being lost.
        ("America/New_York", "30 2 * * *", utc(2026, 3, 8), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", "30 1 * * *", utc(2026, 3, 8), utc(2026, 3, 8, 6, 30)),
        # Berlin: 02:30 happens twice on 25 Oct (once is right), is skipped on 29 Mar.
        ("Europe/Berlin", "30 2 * * *", utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        ("Europe/Berlin", "30 2 * * *", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", "0 8 * * MON", utc(2026, 10, 25, 12), utc(2026, 10, 26, 7, 0)),
    ],
)
def test_a_daily_job_fires_exactly_once_on_dst_change_days(zone, expression, day, expected):
    window = fires(expression, zone, day, day + timedelta(days=1, hours=12))
    on_the_day = [m for m in window if abs(m - expected) < timedelta(hours=12)]
    assert on_the_day == [expected]


def test_the_next_days_return_to_the_usual_local_time():
    new_york = fires("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12), utc(2026, 11, 3, 12))
    assert new_york == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), utc(2026, 11, 3, 6, 30)]
    berlin = fires("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 31, 12))
    assert berlin == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)]


def test_hourly_jobs_follow_real_time_through_the_repeated_hour():
    window = fires("30 * * * *", "America/New_York", utc(2026, 11, 1, 4), utc(2026, 11, 1, 8))
    # 00:30 EDT, 01:30 EDT, 01:30 EST, 02:30 EST, 03:30 EST: each a distinct instant, once.
    assert window == [utc(2026, 11, 1, h, 30) for h in (4, 5, 6, 7)]
    assert len(set(window)) == len(window)


def test_spring_hourly_jobs_skip_the_missing_hour_only():
    window = fires("0 * * * *", "Europe/Berlin", utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 3, 30))
    # 01:00 CET = 00:00Z, 03:00 CEST = 01:00Z (02:00 local never happens), 04:00 = 02:00Z, ...
    assert window == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
        utc(2026, 3, 29, 3),
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "UTC"])
@pytest.mark.parametrize("expression", ["30 1 * * *", "30 2 * * *", "*/20 * * * *", "0 8 * * MON"])
def test_walking_backwards_finds_the_same_times_as_forwards(zone, expression):
    for start in (utc(2026, 3, 6), utc(2026, 10, 23)):
        end = start + timedelta(days=10)
        forward = fires(expression, zone, start, end)
        assert cron_times(expression, zone, start, end, limit=10_000) == forward
        assert cron_times(expression, zone, start, end, limit=3) == forward[-3:]


def test_cron_times_excludes_the_start_and_includes_the_end():
    start, end = utc(2026, 6, 1, 8), utc(2026, 6, 1, 10)
    assert cron_times("0 * * * *", "UTC", start, end, 10) == [
        utc(2026, 6, 1, 9),
        utc(2026, 6, 1, 10),
    ]
    assert cron_times("@hourly", "UTC", start, end, 10) == [utc(2026, 6, 1, 9), utc(2026, 6, 1, 10)]


def test_interval_times_are_anchored():
    anchor = utc(2026, 1, 1)
    assert next_interval(anchor, 900, utc(2026, 1, 1, 0, 15)) == utc(2026, 1, 1, 0, 30)
    assert next_interval(anchor, 900, utc(2025, 12, 31)) == anchor
    assert interval_times(anchor, 900, utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 1), 10) == [
        utc(2026, 1, 1, 0, 15),
        utc(2026, 1, 1, 0, 30),
        utc(2026, 1, 1, 0, 45),
        utc(2026, 1, 1, 1, 0),
    ]
    assert interval_times(anchor, 900, anchor, utc(2026, 1, 2), 2) == [
        utc(2026, 1, 1, 23, 45),
        utc(2026, 1, 2),
    ]

"""Date windows: presets, and like-for-like comparison windows.

A window is a span of whole days, both ends included. Partial periods compare like for
like: month to date as of the 15th is compared with the first 15 days of the previous
month (clipped to that month's end), never with the whole month. "Same period last
year" moves each end back one calendar year; 29 February becomes 28 February.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import UserInputError
from core.kpis.grains import add_months, truncate


@dataclass(frozen=True, slots=True)
class Window:
    """A span of days, `start` and `end` both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UserInputError(
                f"The end date {self.end} is before the start date {self.start}: swap them."
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        """The day after `end` (queries use start <= date < end_exclusive)."""
        return self.end + timedelta(days=1)

    def describe(self) -> str:
        """'1 Aug 2026 – 15 Aug 2026 (15 days)'."""
        days = "1 day" if self.days == 1 else f"{self.days} days"
        if self.start == self.end:
            return f"{self.start:%-d %b %Y} ({days})"
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y} ({days})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """A window to compare with, and what it is ('previous period', 'same period last year')."""

    key: str
    label: str
    window: Window

    def describe(self) -> str:
        return f"vs {self.label}: {self.window.describe()}"


@dataclass(frozen=True, slots=True)
class Preset:
    """A named way to choose the window from the as-of date, and its previous period."""

    key: str
    label: str
    window: Callable[[date], Window]
    previous: Callable[[Window], Window]


PRESETS: dict[str, Preset] = {}
CUSTOM = "custom"


def register(preset: Preset) -> Preset:
    """Add a preset to the registry."""
    PRESETS[preset.key] = preset
    return preset


def shift_year(day: date, years: int = -1) -> date:
    """The same calendar day `years` away; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def preceding(window: Window) -> Window:
    """The same number of days immediately before `window`."""
    return Window(window.start - timedelta(days=window.days), window.start - timedelta(days=1))


def _to_date(months: int) -> Callable[[date], Window]:
    def window(asof: date) -> Window:
        anchor = truncate(asof, {1: "month", 3: "quarter", 12: "year"}[months])
        return Window(anchor, asof)

    return window


def _same_days_earlier(months: int) -> Callable[[Window], Window]:
    """The same number of days from the start of the period `months` earlier, clipped."""

    def previous(window: Window) -> Window:
        start = add_months(window.start, -months)
        period_end = window.start - timedelta(days=1)
        return Window(start, min(start + timedelta(days=window.days - 1), period_end))

    return previous


def _last_days(n: int) -> Callable[[date], Window]:
    return lambda asof: Window(asof - timedelta(days=n - 1), asof)


def _last_full_month(asof: date) -> Window:
    # The as-of month counts as full when the as-of date is its last day.
    following = asof + timedelta(days=1)
    end = asof if following.day == 1 else asof.replace(day=1) - timedelta(days=1)
    return Window(end.replace(day=1), end)


def _previous_month(window: Window) -> Window:
    start = add_months(window.start, -1)
    return Window(start, window.start - timedelta(days=1))


for _preset in (
    Preset("last_7", "Last 7 days", _last_days(7), preceding),
    Preset("last_30", "Last 30 days", _last_days(30), preceding),
    Preset("last_90", "Last 90 days", _last_days(90), preceding),
    Preset("mtd", "Month to date", _to_date(1), _same_days_earlier(1)),
    Preset("qtd", "Quarter to date", _to_date(3), _same_days_earlier(3)),
    Preset("ytd", "Year to date", _to_date(12), _same_days_earlier(12)),
    Preset("last_month", "Last full month", _last_full_month, _previous_month),
):
    register(_preset)
PRESET_LABELS = {**{p.key: p.label for p in PRESETS.values()}, CUSTOM: "Custom range"}


def resolve(preset: str, asof: date, start: date | None = None, end: date | None = None) -> Window:
    """The window a preset (or a custom start/end) stands for, as of `asof`."""
    if preset == CUSTOM:
        if start is None or end is None:
            raise UserInputError("A custom range needs both a start and an end date.")
        return Window(start, end)
    if preset not in PRESETS:
        raise UserInputError(f"Unknown date preset {preset!r}: choose {', '.join(PRESET_LABELS)}.")
    return PRESETS[preset].window(asof)


def comparisons(preset: str, window: Window) -> tuple[Comparison, Comparison]:
    """The previous period (like for like) and the same period last year."""
    previous = PRESETS[preset].previous(window) if preset in PRESETS else preceding(window)
    last_year = Window(shift_year(window.start), shift_year(window.end))
    return (
        Comparison("previous", "previous period", previous),
        Comparison("last_year", "same period last year", last_year),
    )

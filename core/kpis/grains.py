"""Time grains: truncating dates to period starts, stepping periods and labelling them.

Weeks start on Monday (ISO 8601), as in DuckDB's and PostgreSQL's `date_trunc('week')`,
so a week may straddle two years: 2024-12-30 .. 2025-01-05 is week 2025-W01.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.errors import UserInputError

GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
GRAIN_LABELS = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Year",
}


def check_grain(grain: str) -> str:
    """`grain` if it is one of GRAINS, else a UserInputError that lists them."""
    if grain not in GRAINS:
        raise UserInputError(f"Unknown grain {grain!r}: choose {', '.join(GRAINS)}.")
    return grain


def truncate(day: date, grain: str) -> date:
    """The first day of the period of `grain` that holds `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    raise UserInputError(f"Unknown grain {grain!r}: choose {', '.join(GRAINS)}.")


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clipped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    """Number of days in a month (leap years included)."""
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def step(start: date, grain: str, periods: int = 1) -> date:
    """The start of the period `periods` after the one starting at `start`."""
    if grain == "day":
        return start + timedelta(days=periods)
    if grain == "week":
        return start + timedelta(weeks=periods)
    months = {"month": 1, "quarter": 3, "year": 12}[check_grain(grain)]
    return add_months(start, months * periods)


def period_starts(first: date, last: date, grain: str) -> list[date]:
    """Start of every period of `grain` overlapping first..last (inclusive)."""
    starts, current = [], truncate(first, grain)
    while current <= last:
        starts.append(current)
        current = step(current, grain)
    return starts


def label(start: date, grain: str) -> str:
    """A period as people write it: 2024-01-05, 2025-W01, 2024-01, 2024-Q1, 2024."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)

"""Frequencies a series can have: their calendar step, season length and detection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserInputError


@dataclass(frozen=True, slots=True)
class Frequency:
    """A regular calendar step: its pandas offset, DuckDB truncation unit and season length."""

    name: str
    label: str
    offset: str  # pandas offset alias of period starts
    trunc: str  # DuckDB date_trunc unit
    season_length: int  # periods per seasonal cycle (1: no seasonality)
    days: float  # typical length of one period in days

    def range(self, start: pd.Timestamp, periods: int) -> pd.DatetimeIndex:
        """`periods` period starts from `start` on."""
        return pd.date_range(start, periods=periods, freq=self.offset)


FREQUENCIES: dict[str, Frequency] = {}


def register(freq: Frequency) -> Frequency:
    """Add a frequency to the registry."""
    FREQUENCIES[freq.name] = freq
    return freq


for _freq in (
    Frequency("daily", "Daily", "D", "day", 7, 1.0),
    Frequency("weekly", "Weekly", "W-MON", "week", 52, 7.0),  # ISO weeks start on Monday
    Frequency("monthly", "Monthly", "MS", "month", 12, 30.44),
    Frequency("quarterly", "Quarterly", "QS", "quarter", 4, 91.31),
    Frequency("yearly", "Yearly", "YS", "year", 1, 365.25),
):
    register(_freq)


def get(name: str) -> Frequency:
    """The frequency called `name`, or a UserInputError listing the choices."""
    try:
        return FREQUENCIES[name]
    except KeyError:
        raise UserInputError(
            f"Unknown frequency {name!r}: choose one of {', '.join(FREQUENCIES)}."
        ) from None


def detect(dates: pd.Series | pd.DatetimeIndex) -> Frequency:
    """The frequency whose period best matches the typical gap between distinct dates.

    Gaps are measured in days; the median gap picks the nearest frequency on a log scale,
    so a few missing periods or month-length differences do not change the answer.
    Timestamps finer than a day are aggregated to days.
    """
    values = pd.to_datetime(pd.Series(dates)).dropna().drop_duplicates().sort_values()
    if len(values) < 2:
        raise UserInputError(
            "Frequency detection needs at least two distinct dates: choose a frequency."
        )
    gaps = values.diff().dropna().dt.total_seconds().to_numpy() / 86_400
    return from_gap(float(np.median(gaps)))


def from_gap(days: float) -> Frequency:
    """The frequency nearest (on a log scale) to a typical gap of `days` days."""
    if days < 1:
        return FREQUENCIES["daily"]
    return min(FREQUENCIES.values(), key=lambda f: abs(np.log(days / f.days)))

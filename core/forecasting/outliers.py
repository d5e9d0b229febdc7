"""Outliers: values far from their series' seasonal baseline, flagged and optionally replaced.

The baseline is a centred rolling median (one season wide, at least 5 periods) plus,
when the series is seasonal, the median seasonal deviation at each position of the
cycle. A value farther from it than `threshold` robust standard deviations is an
outlier. The spread is the larger of 1.4826 × the median absolute deviation of the
distances and the same of the first differences divided by √2: seasonal medians of
few cycles fit some points exactly, which would make the first estimate too small.
Treating an outlier replaces it by its baseline, so a one-off spike (a platform
outage, a viral day) does not bend the forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.forecasting.seasonality import is_seasonal

THRESHOLD = 4.0
MODES = ("off", "flag", "treat")


@dataclass(frozen=True, slots=True)
class Outliers:
    """Which values are outliers and the baseline they would be replaced by."""

    mask: np.ndarray
    baseline: np.ndarray

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    def treated(self, values: np.ndarray) -> np.ndarray:
        """`values` with each outlier replaced by its baseline."""
        return np.where(self.mask, self.baseline, values)


def baseline(values: np.ndarray, season_length: int) -> np.ndarray:
    """Rolling median plus the median seasonal deviation at each cycle position."""
    window = max(5, season_length if season_length % 2 else season_length + 1)
    window = min(window, len(values) if len(values) % 2 else len(values) - 1)
    level = pd.Series(values).rolling(window, center=True, min_periods=1).median().to_numpy()
    if not is_seasonal(values, season_length, min_seasons=2, detrend=True):
        return level
    positions = np.arange(len(values)) % season_length
    deviation = values - level
    seasonal = np.array([np.median(deviation[positions == k]) for k in range(season_length)])
    return level + seasonal[positions]


def detect(values: np.ndarray, season_length: int, threshold: float = THRESHOLD) -> Outliers:
    """Flag values more than `threshold` robust standard deviations from their baseline."""
    values = np.asarray(values, dtype=float)
    if len(values) < 8:
        return Outliers(np.zeros(len(values), dtype=bool), values.copy())
    base = baseline(values, season_length)
    distance = values - base
    steps = np.diff(values)
    spread = max(
        1.4826 * np.median(np.abs(distance - np.median(distance))),
        1.4826 * np.median(np.abs(steps - np.median(steps))) / np.sqrt(2),
    )
    if not spread > 0:
        return Outliers(np.zeros(len(values), dtype=bool), base)
    return Outliers(np.abs(distance) > threshold * spread, base)

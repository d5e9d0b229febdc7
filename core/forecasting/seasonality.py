"""Seasonality: the M4 competition's autocorrelation test and classical decomposition.

Naive2, Theta and ARIMA forecast a seasonally adjusted series and put the season back;
the test and the decomposition follow the M4 competition's benchmark code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One-sided 90% critical value of the autocorrelation test used in the M4 benchmarks.
_T_CRIT = 1.645


def acf(y: np.ndarray, lag: int) -> float:
    """Sample autocorrelation at `lag` (deviations from the mean of the whole series)."""
    y = np.asarray(y, dtype=float)
    dev = y - y.mean()
    denom = float(dev @ dev)
    if denom == 0 or lag >= len(y):
        return 0.0
    return float(dev[:-lag] @ dev[lag:]) / denom


def _trend_weights(m: int) -> np.ndarray:
    """A centred moving average of one season (2 x m for an even season length)."""
    return np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m


def _detrended(y: np.ndarray, m: int) -> np.ndarray:
    """y relative to its centred moving average of one season (ratio, or difference)."""
    weights = _trend_weights(m)
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    core = y[offset : offset + len(trend)]
    return core / trend if np.all(y > 0) else core - trend


def is_seasonal(
    y: np.ndarray, season_length: int, *, min_seasons: int = 3, detrend: bool = False
) -> bool:
    """M4's test: |acf(m)| beyond its 90% limit, for series of at least three seasons.

    With `detrend` the test runs on the series relative to its moving-average trend,
    so a strong trend (whose autocorrelations are high at every lag) does not hide a
    season; with `min_seasons=2` it accepts two seasons of history, as business data
    often has.
    """
    y = np.asarray(y, dtype=float)
    m = season_length
    if m <= 1 or len(y) < min_seasons * m:
        return False
    if detrend:
        y = _detrended(y, m)
        if len(y) <= m:
            return False
    coefficients = np.array([acf(y, k) for k in range(1, m + 1)])
    # Bartlett's formula for the standard error of the lag-m autocorrelation.
    limit = _T_CRIT * np.sqrt((1 + 2 * np.sum(coefficients[:-1] ** 2)) / len(y))
    return bool(abs(coefficients[-1]) > limit)


@dataclass(frozen=True, slots=True)
class Seasonal:
    """Seasonal indices of a series, to take the season out and put it back.

    `indices[k]` belongs to the k-th position of the cycle, counted from the series'
    first observation. Multiplicative indices average 1, additive ones 0.
    """

    indices: np.ndarray
    multiplicative: bool

    @property
    def season_length(self) -> int:
        return len(self.indices)

    def _tile(self, start: int, n: int) -> np.ndarray:
        positions = (start + np.arange(n)) % self.season_length
        return self.indices[positions]

    def adjust(self, y: np.ndarray) -> np.ndarray:
        """`y` (from the first observation on) without its season."""
        season = self._tile(0, len(y))
        return y / season if self.multiplicative else y - season

    def restore(self, values: np.ndarray, start: int) -> np.ndarray:
        """Put the season back on values that begin at position `start` of the series."""
        season = self._tile(start, len(values))
        return values * season if self.multiplicative else values + season


NO_SEASON = Seasonal(np.ones(1), multiplicative=True)


def decompose(y: np.ndarray, season_length: int) -> Seasonal:
    """Classical decomposition's seasonal indices (centred moving average of one season).

    Multiplicative when every value is positive, additive otherwise (zeros and negative
    values have no ratio to a trend).
    """
    y = np.asarray(y, dtype=float)
    m = season_length
    if m <= 1 or len(y) < 2 * m:
        return NO_SEASON
    multiplicative = bool(np.all(y > 0))
    weights = _trend_weights(m)
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    detrended = (
        y[offset : offset + len(trend)] / trend
        if multiplicative
        else y[offset : offset + len(trend)] - trend
    )
    positions = (offset + np.arange(len(trend))) % m
    indices = np.array([detrended[positions == k].mean() for k in range(m)])
    indices = indices / indices.mean() if multiplicative else indices - indices.mean()
    return Seasonal(indices, multiplicative)


def seasonal_part(
    y: np.ndarray, season_length: int, *, min_seasons: int = 3, detrend: bool = False
) -> Seasonal:
    """The indices to use: a decomposition when the test finds a season, else none."""
    if is_seasonal(y, season_length, min_seasons=min_seasons, detrend=detrend):
        return decompose(y, season_length)
    return NO_SEASON

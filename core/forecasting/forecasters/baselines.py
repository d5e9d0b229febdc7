"""Benchmarks every other model must beat: naive, seasonal naive, drift and Naive2.

Their intervals follow Hyndman & Athanasopoulos, "Forecasting: principles and
practice" (3rd ed., section 5.5): the residual standard deviation times the growth
of each method's forecast error with the horizon.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from core.forecasting.forecasters.base import (
    Forecaster,
    ModelSpec,
    Prediction,
    as_series,
    register,
    residual_sigma,
)
from core.forecasting.seasonality import NO_SEASON, Seasonal, seasonal_part


class Naive(Forecaster):
    """Every future value equals the last observation."""

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        self.last_ = float(values[-1])
        self.sigma_ = residual_sigma(np.diff(values))
        return self

    def predict(self, h: int, X=None) -> Prediction:
        steps = np.arange(1, h + 1)
        return Prediction(np.full(h, self.last_), self.sigma_ * np.sqrt(steps))


class SeasonalNaive(Forecaster):
    """Each future value equals the last observation of the same season."""

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        m = self.season_length if len(values) >= self.season_length else 1
        self.m_ = m
        self.last_season_ = values[-m:].copy()
        self.sigma_ = residual_sigma(values[m:] - values[:-m])
        return self

    def predict(self, h: int, X=None) -> Prediction:
        steps = np.arange(h)
        mean = self.last_season_[steps % self.m_]
        return Prediction(mean, self.sigma_ * np.sqrt(steps // self.m_ + 1))


class Drift(Forecaster):
    """The line from the first to the last observation, extended."""

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        n = len(values)
        self.n_ = n
        self.last_ = float(values[-1])
        self.slope_ = float(values[-1] - values[0]) / (n - 1) if n > 1 else 0.0
        self.sigma_ = residual_sigma(np.diff(values) - self.slope_)
        return self

    def predict(self, h: int, X=None) -> Prediction:
        steps = np.arange(1, h + 1)
        growth = np.sqrt(steps * (1 + steps / max(self.n_ - 1, 1)))
        return Prediction(self.last_ + self.slope_ * steps, self.sigma_ * growth)


class Naive2(Forecaster):
    """The M4 competition's Naive2: naive on the seasonally adjusted series, season restored.

    The season is taken out only when the M4 autocorrelation test finds one
    (classical multiplicative decomposition; additive when a value is not positive).
    """

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        self.n_ = len(values)
        self.season_: Seasonal = seasonal_part(values, self.season_length)
        adjusted = self.season_.adjust(values)
        self.last_ = float(adjusted[-1])
        self.sigma_ = residual_sigma(np.diff(adjusted))
        return self

    def predict(self, h: int, X=None) -> Prediction:
        steps = np.arange(1, h + 1)
        mean = self.season_.restore(np.full(h, self.last_), self.n_)
        sigma = self.sigma_ * np.sqrt(steps)
        if self.season_ is not NO_SEASON and self.season_.multiplicative:
            sigma = self.season_.restore(sigma, self.n_)
        return Prediction(mean, sigma)


register(
    ModelSpec(
        "naive",
        "Naive",
        "baseline",
        "Repeats the last value.",
        Naive,
        min_length=lambda m: 2,
        auto=False,
    )
)
register(
    ModelSpec(
        "seasonal_naive",
        "Seasonal naive",
        "baseline",
        "Repeats the last season.",
        SeasonalNaive,
        min_length=lambda m: 2,
    )
)
register(
    ModelSpec(
        "drift",
        "Drift",
        "baseline",
        "Extends the line from the first to the last value.",
        Drift,
        min_length=lambda m: 3,
        auto=False,
    )
)
register(
    ModelSpec(
        "naive2",
        "Naive2",
        "baseline",
        "Naive on the seasonally adjusted series (the M4 reference for OWA).",
        Naive2,
        min_length=lambda m: 2,
    )
)

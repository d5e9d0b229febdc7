"""The Theta method (Assimakopoulos & Nikolopoulos 2000), as Hyndman & Billah (2003) state it.

On the seasonally adjusted series: simple exponential smoothing plus half the slope of
the linear trend (for θ = 2), then the season put back. It won the M3 competition.
Intervals are those of the underlying SES; statsmodels' Theta intervals were far too
wide (~99% coverage at 80%), which is why this is our own small implementation.
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
from core.forecasting.forecasters.smoothing import fit_ses
from core.forecasting.seasonality import NO_SEASON, seasonal_part


class Theta(Forecaster):
    """Standard Theta: SES with drift equal to (1 − 1/θ) times the trend slope."""

    def __init__(
        self,
        season_length: int = 1,
        theta: float = 2.0,
        min_seasons: int = 3,
        detrend: bool = False,
    ) -> None:
        super().__init__(season_length)
        self.theta = theta
        self.min_seasons = min_seasons
        self.detrend = detrend

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        self.n_ = n = len(values)
        self.season_ = seasonal_part(
            values, self.season_length, min_seasons=self.min_seasons, detrend=self.detrend
        )
        adjusted = self.season_.adjust(values)
        self.ses_ = fit_ses(adjusted)
        t = np.arange(n)
        self.slope_ = float(np.polyfit(t, adjusted, 1)[0]) if n > 1 else 0.0
        self.sigma_ = residual_sigma(self.ses_.residuals[1:])
        return self

    def predict(self, h: int, X=None) -> Prediction:
        alpha, n = self.ses_.alpha, self.n_
        steps = np.arange(1, h + 1)
        drift = (1 - 1 / self.theta) * self.slope_
        mean = self.ses_.level + drift * (steps - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
        sigma = self.sigma_ * np.sqrt(1 + (steps - 1) * alpha**2)
        mean = self.season_.restore(mean, n)
        if self.season_ is not NO_SEASON and self.season_.multiplicative:
            sigma = self.season_.restore(sigma, n)
        return Prediction(mean, sigma)


register(
    ModelSpec(
        "theta",
        "Theta",
        "statistical",
        "Exponential smoothing with half the trend slope, on the seasonally adjusted series.",
        Theta,
        min_length=lambda m: 4,
    )
)

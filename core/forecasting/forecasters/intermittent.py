"""Intermittent demand: Croston (1972), SBA (Syntetos & Boylan 2005) and TSB (Teunter et al. 2011).

Many periods have no demand, so these methods smooth the size of the demands and how
often they come, separately, with a fixed weight α (0.1 by default, as in the
literature). Forecasts are flat: expected demand per period.

* Croston: size z and interval p are smoothed at each demand; forecast z / p.
* SBA: Croston times (1 − α/2), which removes Croston's upward bias.
* TSB: the probability of a demand is smoothed every period (weight β), the size at
  each demand; forecast probability × size. It follows obsolescence (demand dying out).

Initialisation: z₀ is the first demand, p₀ the periods up to and including it; TSB
starts from the share of periods with demand.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from core.forecasting.forecasters.base import Forecaster, ModelSpec, Prediction, as_series, register


def croston_path(y: np.ndarray, alpha: float) -> tuple[np.ndarray, float, float]:
    """One-step forecasts before each period (NaN until the first demand), final z and p."""
    forecasts = np.full(len(y), np.nan)
    demand = np.flatnonzero(y > 0)
    if len(demand) == 0:
        return forecasts, 0.0, 1.0
    first = demand[0]
    z, p = float(y[first]), float(first + 1)
    last = first
    for t in range(first + 1, len(y)):
        forecasts[t] = z / p
        if y[t] > 0:
            z += alpha * (y[t] - z)
            p += alpha * ((t - last) - p)
            last = t
    return forecasts, z, p


def tsb_path(y: np.ndarray, alpha: float, beta: float) -> tuple[np.ndarray, float, float]:
    """One-step forecasts before each period, final probability and size."""
    forecasts = np.full(len(y), np.nan)
    demand = np.flatnonzero(y > 0)
    if len(demand) == 0:
        return forecasts, 0.0, 0.0
    prob, size = float(np.mean(y > 0)), float(y[demand[0]])
    for t in range(len(y)):
        forecasts[t] = prob * size
        occurred = y[t] > 0
        prob += beta * (float(occurred) - prob)
        if occurred:
            size += alpha * (y[t] - size)
    return forecasts, prob, size


class _Flat(Forecaster):
    level_: float
    sigma_: float

    def predict(self, h: int, X=None) -> Prediction:
        return Prediction(np.full(h, self.level_), np.full(h, self.sigma_))

    def _set(self, y: np.ndarray, forecasts: np.ndarray, level: float) -> Self:
        self.level_ = level
        errors = y - forecasts
        errors = errors[np.isfinite(errors)]
        self.sigma_ = float(np.sqrt(np.mean(errors**2))) if len(errors) else float(np.std(y))
        return self


class Croston(_Flat):
    """Croston's method; `debias=True` gives SBA."""

    def __init__(self, season_length: int = 1, alpha: float = 0.1, debias: bool = False) -> None:
        super().__init__(season_length)
        self.alpha = alpha
        self.debias = debias

    def fit(self, y, X=None) -> Self:
        values = np.clip(as_series(y).to_numpy(), 0, None)
        forecasts, z, p = croston_path(values, self.alpha)
        factor = 1 - self.alpha / 2 if self.debias else 1.0
        return self._set(values, forecasts * factor, factor * z / p)


class TSB(_Flat):
    """Teunter-Syntetos-Babai: smoothed demand probability times smoothed size."""

    def __init__(self, season_length: int = 1, alpha: float = 0.1, beta: float = 0.1) -> None:
        super().__init__(season_length)
        self.alpha = alpha
        self.beta = beta

    def fit(self, y, X=None) -> Self:
        values = np.clip(as_series(y).to_numpy(), 0, None)
        forecasts, prob, size = tsb_path(values, self.alpha, self.beta)
        return self._set(values, forecasts, prob * size)


def is_intermittent(y: np.ndarray, threshold: float = 1.32) -> bool:
    """Average interval between demands above 1.32 periods (Syntetos-Boylan), no negatives."""
    y = np.asarray(y, float)
    demands = int(np.sum(y > 0))
    if demands == 0 or np.any(y < 0):
        return False
    return len(y) / demands > threshold


for _spec in (
    ModelSpec(
        "croston",
        "Croston",
        "intermittent",
        "Smooths demand sizes and intervals separately (intermittent demand).",
        Croston,
        intermittent=True,
    ),
    ModelSpec(
        "sba",
        "SBA",
        "intermittent",
        "Croston with the Syntetos-Boylan bias correction (intermittent demand).",
        Croston,
        intermittent=True,
        params={"debias": True},
    ),
    ModelSpec(
        "tsb",
        "TSB",
        "intermittent",
        "Smooths demand probability every period: follows demand dying out.",
        TSB,
        intermittent=True,
    ),
):
    register(_spec)

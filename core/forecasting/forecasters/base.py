"""The one interface every forecaster implements, its result, and the model registry.

A forecaster is built with the season length (and its own parameters), learns from
`fit(y, X=None)` and returns a `Prediction` from `predict(h, X=None)`:

* `y` is a float `pd.Series` on a regular `DatetimeIndex` (no gaps, no missing values);
* `X` holds exogenous regressors, one row per observation, only for models whose
  spec says `uses_exog`; `predict` then needs their `h` future rows;
* the prediction carries point forecasts and the standard deviation of the forecast
  error at each step, from which normal intervals follow (calibrated later from
  backtest errors, see `core.forecasting.intervals`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.stats import norm


@dataclass(frozen=True, slots=True)
class Prediction:
    """Point forecasts and the standard deviation of the error at each step ahead."""

    mean: np.ndarray
    sigma: np.ndarray

    def interval(self, level: float, multiplier: np.ndarray | float | None = None):
        """Lower and upper bounds; `multiplier` replaces the normal quantile when given."""
        q = norm.ppf(0.5 + level / 200) if multiplier is None else multiplier
        return self.mean - q * self.sigma, self.mean + q * self.sigma


def as_series(y: pd.Series | np.ndarray) -> pd.Series:
    """`y` as a float Series (a plain array gets a monthly index from 2000-01)."""
    if isinstance(y, pd.Series):
        return y.astype(float)
    values = np.asarray(y, dtype=float)
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=len(values), freq="MS"))


def future_index(y: pd.Series, h: int) -> pd.DatetimeIndex:
    """The `h` dates after the end of `y`."""
    index = y.index
    freq = index.freq
    if freq is None and len(index) >= 3:
        freq = pd.infer_freq(index)
    if freq is None:
        raise ValueError("the series has no regular frequency")
    return pd.date_range(index[-1], periods=h + 1, freq=freq)[1:]


def residual_sigma(residuals: np.ndarray) -> float:
    """Standard deviation of in-sample one-step errors (0 when there are none)."""
    residuals = np.asarray(residuals, float)
    residuals = residuals[np.isfinite(residuals)]
    if len(residuals) < 2:
        return 0.0
    return float(np.sqrt(np.mean(residuals**2)))


class Forecaster(ABC):
    """Base class: parameters in __init__, learned state (ending in `_`) set by fit."""

    def __init__(self, season_length: int = 1) -> None:
        self.season_length = max(1, int(season_length))

    @abstractmethod
    def fit(self, y: pd.Series | np.ndarray, X: np.ndarray | None = None) -> Self:
        """Learn from the history `y` (and regressors `X`); returns self."""

    @abstractmethod
    def predict(self, h: int, X: np.ndarray | None = None) -> Prediction:
        """Forecast `h` steps after the end of the history."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A registered model: how to build it and when it applies.

    `min_length(m)` is the shortest history (given season length m) it can fit;
    `auto` says whether the automatic choice tries it; `intermittent` models are tried
    only on intermittent demand, and the others skip series that are mostly zeros
    only when `smooth_only`.
    """

    name: str
    label: str
    family: str
    description: str
    factory: Callable[..., Forecaster]
    min_length: Callable[[int], int] = field(default=lambda m: 2)
    uses_exog: bool = False
    auto: bool = True
    intermittent: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def build(self, season_length: int) -> Forecaster:
        """A fresh, unfitted forecaster."""
        return self.factory(season_length=season_length, **self.params)


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (built-ins and extensions alike)."""
    MODELS[spec.name] = spec
    return spec

"""Gradient boosting on scaled lags and calendar features (scikit-learn), one series at a time.

Each row holds the last `lags` values scaled by their recent mean absolute value, the
calendar position of the target (month, weekday, ... as the spacing allows) and any
regressors; the target is the next value on the same scale. Forecasts are recursive:
each step's forecast becomes a lag of the next. Trees cannot extrapolate a level they
have not seen; scaling by the recent level lets the model follow trends in ratio
terms. Intervals come from in-sample one-step errors growing with √h; the backtest
calibrates them (see core.forecasting.intervals).
"""

from __future__ import annotations

from typing import Self

import numpy as np

from core.forecasting.features import calendar, scale_of, training_rows
from core.forecasting.forecasters.base import (
    Forecaster,
    ModelSpec,
    Prediction,
    as_series,
    future_index,
    register,
    residual_sigma,
)


def _lags_for(n: int, season_length: int) -> int:
    wanted = max(2 * season_length, 6) if season_length > 1 else 6
    return int(max(2, min(wanted, n // 3)))


class GradientBoosting(Forecaster):
    """Recursive one-step HistGradientBoostingRegressor on scaled lags, calendar and X."""

    def __init__(
        self, season_length: int = 1, lags: int | None = None, max_iter: int = 100
    ) -> None:
        super().__init__(season_length)
        self.lags = lags
        self.max_iter = max_iter

    def fit(self, y, X=None) -> Self:
        from sklearn.ensemble import HistGradientBoostingRegressor

        series = as_series(y)
        values = series.to_numpy()
        lags = self.lags or _lags_for(len(values), self.season_length)
        self.lags_ = lags
        self.scale_window_ = min(lags, max(self.season_length, 1))
        rows, targets, positions, scales = training_rows(values, lags, self.scale_window_)
        if len(targets) < 4:
            raise ValueError("too short for gradient boosting")
        extra = [calendar(series.index)[positions]]
        self.n_exog_ = 0
        if X is not None:
            exog = np.asarray(X, dtype=float).reshape(len(values), -1)
            extra.append(exog[positions])
            self.n_exog_ = exog.shape[1]
        features = np.hstack([rows, *extra])
        self.model_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=max(3, len(targets) // 20),
            l2_regularization=1.0,
            early_stopping=False,
            random_state=0,
        ).fit(features, targets)
        fitted = self.model_.predict(features) * scales
        self.sigma_ = residual_sigma(values[positions] - fitted)
        self.history_ = values.copy()
        self.series_ = series
        return self

    def predict(self, h: int, X=None) -> Prediction:
        history = list(self.history_)
        dates = future_index(self.series_, h)
        cal = calendar(self.series_.index.append(dates))[-h:]
        exog = None
        if self.n_exog_:
            if X is None:
                raise ValueError("gradient boosting with regressors needs their future values")
            exog = np.asarray(X, dtype=float).reshape(h, -1)
        mean = np.empty(h)
        for step in range(h):
            window = np.asarray(history[-self.lags_ :])
            scale = float(scale_of(window[-self.scale_window_ :]))
            parts = [window / scale, cal[step]]
            if exog is not None:
                parts.append(exog[step])
            value = float(self.model_.predict(np.hstack(parts)[None, :])[0]) * scale
            mean[step] = value
            history.append(value)
        return Prediction(mean, self.sigma_ * np.sqrt(np.arange(1, h + 1)))


register(
    ModelSpec(
        "gbm",
        "Gradient boosting",
        "machine learning",
        "Gradient-boosted trees on scaled lags and calendar features; uses regressors.",
        GradientBoosting,
        min_length=lambda m: max(2 * m, 6) + 6 if m > 1 else 12,
        uses_exog=True,
        auto=False,
    )
)

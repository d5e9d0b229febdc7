"""Global models: gradient boosting learned across every series of a run.

Local models see one series; a global model learns the shapes that recur across many
(how growth tends to continue, how noise settles), which is what the strongest
methods of the M4 competition exploited. Each history is cut into windows of
`lags` values, and each window is divided by the mean absolute value of its last
season, so series of any size share one model. One HistGradientBoostingRegressor per
step ahead predicts the scaled future directly (no recursion, so errors do not
compound), trained on absolute error (robust to outliers and closest to MASE).

Two variants differ in how they see seasons, which makes them useful to combine:

* `global_gbm` learns on the seasonally adjusted series (M4 test and classical
  decomposition) and puts the season back;
* `global_gbm_raw` learns on the series as they are, seasons included.

σ̂ per step is the in-sample RMS error at that step, on the series' scale; the backtest
calibrates it like every other model's. A global model needs many windows: below
`MIN_ROWS` training windows (or `MIN_SERIES` series) it is skipped, with a notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.forecasting.backtest import Plan
from core.forecasting.features import EPS
from core.forecasting.forecasters.base import Prediction
from core.forecasting.seasonality import NO_SEASON, Seasonal, seasonal_part

MIN_ROWS = 300
MIN_SERIES = 10


@dataclass(frozen=True, slots=True)
class GlobalSpec:
    """A registered global model."""

    name: str
    label: str
    description: str
    adjust: bool  # learn on seasonally adjusted series


GLOBAL_MODELS: dict[str, GlobalSpec] = {
    spec.name: spec
    for spec in (
        GlobalSpec(
            "global_gbm",
            "Global gradient boosting",
            "Gradient-boosted trees learned across all series of the run, on seasonally "
            "adjusted, scaled windows.",
            True,
        ),
        GlobalSpec(
            "global_gbm_raw",
            "Global gradient boosting (raw)",
            "Gradient-boosted trees learned across all series of the run, on scaled windows "
            "with their seasons.",
            False,
        ),
    )
}


def _lags(season_length: int) -> int:
    return max(2 * season_length, 12) if season_length > 1 else 12


def _scale_window(season_length: int) -> int:
    """Values a window is scaled by: its last season (its last 4 without seasons)."""
    return season_length if season_length > 1 else 4


def _fit_step(inputs: np.ndarray, targets: np.ndarray, step: int, max_iter: int):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # see engine.py: oversubscription costs ~10x
        model = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=max_iter,
            learning_rate=0.07,
            max_leaf_nodes=31,
            min_samples_leaf=max(20, len(inputs) // 2000),
            l2_regularization=1.0,
            early_stopping=False,
            random_state=step,
        ).fit(inputs, targets)
        rms = float(np.sqrt(np.mean((model.predict(inputs) - targets) ** 2)))
    return model, rms


class GlobalBoosting:
    """Direct multi-step boosting across series: fit on many histories, predict each."""

    def __init__(
        self,
        season_length: int,
        horizon: int,
        *,
        adjust: bool = True,
        max_iter: int = 150,
        n_jobs: int = 1,
    ) -> None:
        self.season_length = max(1, season_length)
        self.horizon = horizon
        self.adjust = adjust
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.lags = _lags(self.season_length)

    def _season(self, values: np.ndarray) -> Seasonal:
        return seasonal_part(values, self.season_length) if self.adjust else NO_SEASON

    def training_rows(self, histories: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Scaled windows and their scaled next `horizon` values, over every series."""
        inputs, targets = [], []
        lags, h = self.lags, self.horizon
        first = lags - _scale_window(self.season_length)
        for values in histories:
            if len(values) < lags + h:
                continue
            adjusted = self._season(values).adjust(values)
            windows = np.lib.stride_tricks.sliding_window_view(adjusted, lags + h)
            scales = np.mean(np.abs(windows[:, first:lags]), axis=1) + EPS
            inputs.append(windows[:, :lags] / scales[:, None])
            targets.append(windows[:, lags:] / scales[:, None])
        if not inputs:
            return np.zeros((0, lags)), np.zeros((0, h))
        return np.vstack(inputs), np.vstack(targets)

    def fit(self, histories: Sequence[np.ndarray]) -> GlobalBoosting:
        """One model per step ahead from all histories (ValueError if too few windows)."""
        inputs, targets = self.training_rows(histories)
        if len(inputs) < MIN_ROWS:
            raise ValueError(f"it has {len(inputs)} training windows of the {MIN_ROWS} it needs")
        steps = range(self.horizon)
        if self.n_jobs > 1:
            from joblib import Parallel, delayed

            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_step)(inputs, targets[:, s], s, self.max_iter) for s in steps
            )
        else:
            fitted = [_fit_step(inputs, targets[:, s], s, self.max_iter) for s in steps]
        self.models_ = [model for model, _ in fitted]
        # Uncertainty does not shrink with the horizon.
        self.rms_ = np.maximum.accumulate(np.array([rms for _, rms in fitted]))
        return self

    def predict(self, histories: Sequence[np.ndarray], h: int | None = None) -> list[Prediction]:
        """Forecasts of `h` (≤ horizon) steps after the end of each history."""
        from threadpoolctl import threadpool_limits

        h = h or self.horizon
        seasons = [self._season(v) for v in histories]
        rows, scales = [], []
        width = _scale_window(self.season_length)
        for values, season in zip(histories, seasons, strict=True):
            window = season.adjust(values)[-self.lags :]
            if len(window) < self.lags:  # short series: pad with their first value
                window = np.r_[np.full(self.lags - len(window), window[0]), window]
            scale = float(np.mean(np.abs(window[-width:]))) + EPS
            rows.append(window / scale)
            scales.append(scale)
        inputs = np.vstack(rows)
        with threadpool_limits(limits=1):
            scaled = np.column_stack([model.predict(inputs) for model in self.models_[:h]])
        out = []
        for i, (season, scale) in enumerate(zip(seasons, scales, strict=True)):
            n = len(histories[i])
            mean = season.restore(scaled[i] * scale, n)
            sigma = self.rms_[:h] * scale
            if season is not NO_SEASON and season.multiplicative:
                sigma = season.restore(sigma, n)
            out.append(Prediction(mean, sigma))
        return out


def backtest_and_forecast(
    spec: GlobalSpec,
    histories: list[np.ndarray],
    plans: list[Plan],
    season_length: int,
    horizon: int,
    n_jobs: int = 1,
) -> list[tuple[np.ndarray, np.ndarray, Prediction]]:
    """Per series: fold forecasts (mean, σ̂; folds × backtest horizon) and the final forecast.

    Fold k (0 = the latest) trains on every series cut where its own fold k starts (or,
    for a series too short to have that fold, as far before its end), so no series
    lends the model values from after another series' fold origin.
    """

    def model(h: int) -> GlobalBoosting:
        return GlobalBoosting(season_length, h, adjust=spec.adjust, n_jobs=n_jobs)

    folds = max((p.folds for p in plans), default=0)
    fold_predictions: dict[int, dict[int, Prediction]] = {}
    for k in range(folds):
        cuts = [
            p.origins[p.folds - 1 - k] if k < p.folds else len(v) - p.horizon - p.step * k
            for v, p in zip(histories, plans, strict=True)
        ]
        serving = [i for i, p in enumerate(plans) if k < p.folds]
        h = max(plans[i].horizon for i in serving)
        fitted = model(h).fit([v[:c] for v, c in zip(histories, cuts, strict=True) if c > 0])
        predicted = fitted.predict([histories[i][: cuts[i]] for i in serving], h)
        fold_predictions[k] = dict(zip(serving, predicted, strict=True))
    final = model(horizon).fit(histories).predict(histories, horizon)
    out = []
    for i, p in enumerate(plans):
        mean = np.empty((p.folds, p.horizon))
        sigma = np.empty((p.folds, p.horizon))
        for f in range(p.folds):
            prediction = fold_predictions[p.folds - 1 - f][i]
            mean[f] = prediction.mean[: p.horizon]
            sigma[f] = prediction.sigma[: p.horizon]
        out.append((mean, sigma, final[i]))
    return out

"""Rolling-origin backtests: where the folds start and what each model scored on them.

Fold f trains on everything before its origin and forecasts the next `horizon`
values; origins move back from the end by `step` periods, the last fold ending at the
last observation. Every fold's MASE is scaled by the seasonal naive error of that
fold's own training data, as in the M4 competition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.forecasting import metrics


@dataclass(frozen=True, slots=True)
class Plan:
    """Where the folds of one series start (indices of their first forecast point)."""

    origins: tuple[int, ...]
    horizon: int
    step: int

    @property
    def folds(self) -> int:
        return len(self.origins)


def plan(n: int, horizon: int, folds: int, step: int | None, min_train: int) -> Plan:
    """As many of the requested folds as leave `min_train` observations before the first.

    The backtest horizon is shortened (never below one period) when the history is too
    short for a single fold of the full horizon.
    """
    step = max(1, int(step or horizon))
    bt_horizon = int(max(1, min(horizon, n - min_train)))
    origins = [n - bt_horizon - step * i for i in range(max(folds, 0))]
    kept = tuple(sorted(o for o in origins if o >= min_train))
    return Plan(kept, bt_horizon, step)


@dataclass(frozen=True, slots=True)
class FoldScores:
    """Accuracy of one forecast over the folds of one series (means over folds)."""

    mase: float
    smape: float
    rmse: float
    bias: float


def score(actuals: np.ndarray, forecasts: np.ndarray, scales: np.ndarray) -> FoldScores:
    """Mean MASE, sMAPE, RMSE and bias over folds (rows of `actuals` and `forecasts`)."""
    rows = range(len(actuals))
    mase_values = [metrics.mase(actuals[i], forecasts[i], scales[i]) for i in rows]
    finite = [v for v in mase_values if np.isfinite(v)]
    return FoldScores(
        mase=float(np.mean(finite)) if finite else float("nan"),
        smape=float(np.mean([metrics.smape(actuals[i], forecasts[i]) for i in rows])),
        rmse=float(np.sqrt(np.mean((actuals - forecasts) ** 2))),
        bias=float(np.mean(forecasts - actuals)),
    )


def relative_score(scores: FoldScores, reference: FoldScores) -> float:
    """OWA of `scores` against the reference (Naive2) scores on the same folds."""
    return metrics.owa(scores.smape, scores.mase, reference.smape, reference.mase)

"""Calibrated prediction intervals: split-conformal multipliers from backtest errors.

A model's own intervals can be far off (statsmodels' Theta intervals cover ~99% at a
nominal 80%; ETS under-covers on short trending series). So each backtest error is
divided by the standard deviation the model claimed for that step (a normalised
score), and the interval at level L is ŷ ± q·σ̂, where q is the conformal quantile
(the ⌈(n+1)·L⌉-th smallest of n scores) of the most specific pool with enough scores:

1. the series' own scores (all folds and steps): its calibration, shaped by its model;
2. the scores at the same step of every series whose choice has the same label;
3. those of every step of that label;
4. every score of the batch.

A level whose pools are all too small borrows the 80% multiplier scaled by the normal
ratio z(L)/z(80%); with fewer than 4 scores in all, the model's own normal interval is
used, and the result says so. Steps beyond the backtest horizon reuse its last step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

LEVELS = (80, 95)


def normalised(actuals: np.ndarray, fold_mean: np.ndarray, fold_sigma: np.ndarray) -> np.ndarray:
    """|error| / σ̂ per fold and step (NaN where σ̂ is missing or zero)."""
    sigma = np.where(np.isfinite(fold_sigma) & (fold_sigma > 0), fold_sigma, np.nan)
    return np.abs(actuals - fold_mean) / sigma


def _rank(n: int, level: int) -> int:
    """⌈(n+1)·level/100⌉ in integers (floating point would round 0.8·5 up to 5)."""
    return -(-(n + 1) * level // 100)


def needed(level: int) -> int:
    """Fewest scores whose conformal quantile at `level` (percent) is finite."""
    n = 1
    while _rank(n, level) > n:
        n += 1
    return n


def conformal_quantile(scores: np.ndarray, level: int) -> float:
    """The ⌈(n+1)·level⌉-th smallest score (inf when there are too few)."""
    values = np.sort(scores[np.isfinite(scores)])
    n = len(values)
    rank = _rank(n, level)
    return float(values[rank - 1]) if 0 < rank <= n else float("inf")


@dataclass(frozen=True, slots=True)
class Multipliers:
    """Per-step multipliers of σ̂ for each level, and where they came from."""

    by_level: dict[int, np.ndarray]
    source: str

    def at(self, level: int, steps: int) -> np.ndarray:
        """Multipliers for `steps` steps (the last backtest step repeats beyond the backtest)."""
        values = self.by_level[level]
        if len(values) >= steps:
            return values[:steps]
        return np.r_[values, np.full(steps - len(values), values[-1])]


class Calibrator:
    """Pools of normalised backtest scores of a batch, keyed by the chosen candidate's label."""

    def __init__(self, levels: Sequence[int] = LEVELS) -> None:
        self.levels = tuple(levels)
        self._by_label: dict[str, list[np.ndarray]] = defaultdict(list)
        self._cache: dict[tuple, float] = {}

    def add(self, label: str, scores: np.ndarray) -> None:
        """Add one series' scores (folds × steps)."""
        self._by_label[label].append(scores)
        self._cache.clear()

    def _pooled(self, level: int, label: str | None, step: int | None) -> float:
        """Conformal quantile of a pool (inf when the pool is too small); memoised."""
        key = (level, label, step)
        if key not in self._cache:
            if label is None:
                groups = [g for gs in self._by_label.values() for g in gs]
            else:
                groups = self._by_label.get(label, [])
            if step is None:
                parts = [g.ravel() for g in groups]
            else:
                parts = [g[:, step] for g in groups if g.shape[1] > step]
            pool = np.concatenate(parts) if parts else np.zeros(0)
            self._cache[key] = conformal_quantile(pool, level)
        return self._cache[key]

    def _one_level(self, level: int, label: str, own: np.ndarray, steps: int):
        """(multipliers or None, source) for one level."""
        if len(own) >= needed(level):
            return np.full(steps, conformal_quantile(own, level)), "own backtest errors"
        per_step = np.array([self._pooled(level, label, s) for s in range(steps)])
        if np.all(np.isfinite(per_step)):
            return per_step, "backtest errors of series with the same choice, by step"
        for pool_label, source in (
            (label, "backtest errors of series with the same choice"),
            (None, "all backtest errors of this run"),
        ):
            q = self._pooled(level, pool_label, None)
            if np.isfinite(q):
                return np.full(steps, q), source
        return None, ""

    def multipliers(self, label: str, own: np.ndarray, steps: int) -> Multipliers:
        """Multipliers for a series whose choice has `label` and whose own scores are `own`.

        `steps` is the backtest horizon (Multipliers.at extends it).
        """
        own_values = own[np.isfinite(own)]
        by_level: dict[int, np.ndarray] = {}
        sources: list[str] = []
        for level in self.levels:
            q, source = self._one_level(level, label, own_values, steps)
            if q is not None:
                by_level[level] = q
                sources.append(source)
        for level in self.levels:
            if level in by_level:
                continue
            z = norm.ppf(0.5 + level / 200)
            if 80 in by_level:
                by_level[level] = by_level[80] * z / norm.ppf(0.9)
                sources.append("80% calibration scaled to the normal ratio")
            else:
                by_level[level] = np.full(steps, z)
                sources.append("model intervals (too few backtest errors to calibrate)")
        return Multipliers(by_level, "; ".join(dict.fromkeys(sources)))


def coverage(actuals: np.ndarray, fold_mean, fold_sigma, q: np.ndarray) -> float:
    """Share of backtest actuals inside ŷ ± q·σ̂ (q per step)."""
    steps = actuals.shape[1]
    lower = fold_mean - q[:steps] * fold_sigma
    upper = fold_mean + q[:steps] * fold_sigma
    inside = (actuals >= lower) & (actuals <= upper)
    return float(np.mean(inside))

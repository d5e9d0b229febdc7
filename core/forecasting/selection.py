"""Candidates (single models and combinations), their backtest scores, and the choice.

Candidates of a series are its fitted models and combinations of its non-benchmark
models ("members"):

* the mean, the median and the trimmed mean (without the highest and lowest value) of
  all members, and of all members but one;
* with two or more folds, the mean and the median of its best k members (k = 2 …
  `max_k`), where on each fold the best k are ranked by the *other* folds, so the
  combination's backtest never ranks members on the data it is scored on.

Scores are OWA against Naive2 on the same folds (the mean of the sMAPE and MASE ratios;
Naive2 = 1); for intermittent demand, MASE alone (sMAPE is meaningless with zeros).

The choice: with `choice="pooled"` (the default) every series of a run takes the
candidate with the best score pooled over all series of its kind (intermittent or
not) that have it, computed like the M4 competition's OWA (ratio of mean sMAPE and of
mean MASE to Naive2's). On M3's monthly series a single backtest fold per series
picked a worse model than the pooled choice more often than not (OWA 0.877 against
0.841 on a development split); with one series, the pooled choice is the series' own.
`choice="per_series"` takes each series' own best instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.forecasting.backtest import FoldScores, relative_score, score
from core.forecasting.engine import SeriesRun
from core.forecasting.forecasters import MODELS
from core.forecasting.global_model import GLOBAL_MODELS

REFERENCE = "naive2"


def trimmed_mean(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """The mean without the highest and the lowest value (of four or more)."""
    ordered = np.sort(values, axis=axis)
    inner = np.take(ordered, range(1, ordered.shape[axis] - 1), axis=axis)
    return np.mean(inner, axis=axis)


COMBINERS = {"mean": np.mean, "median": np.median, "trimmed": trimmed_mean}
LABELS = {"mean": "Mean", "median": "Median", "trimmed": "Trimmed mean"}


def _combiners(size: int) -> tuple[str, ...]:
    """Combiners that differ for `size` members (the median of two is their mean...)."""
    if size >= 4:
        return ("mean", "median", "trimmed")
    return ("mean", "median") if size == 3 else ("mean",)


CHOICES = ("pooled", "per_series")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A way to forecast one series, with its backtest forecasts and scores."""

    name: str
    label: str
    kind: str  # "model", "mean", "median" or "trimmed"
    members: tuple[str, ...]
    fold_mean: np.ndarray
    fold_sigma: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray
    scores: FoldScores
    reference: FoldScores | None  # Naive2 on the same folds
    mase_only: bool = False
    detail: str = ""

    @property
    def owa(self) -> float:
        if self.reference is None:
            return float("nan")
        return relative_score(self.scores, self.reference)

    @property
    def score(self) -> float:
        """What the choice minimises: OWA (MASE for intermittent demand), else MASE, RMSE."""
        first = self.scores.mase if self.mase_only else self.owa
        for value in (first, self.scores.mase, self.scores.rmse):
            if np.isfinite(value):
                return float(value)
        return float("inf")


def label_of(name: str) -> str:
    """The display name of a model or global model."""
    if name in MODELS:
        return MODELS[name].label
    if name in GLOBAL_MODELS:
        return GLOBAL_MODELS[name].label
    return name


def _is_benchmark(name: str) -> bool:
    return name in MODELS and MODELS[name].family == "baseline"


def _combine(how: str, arrays: list[np.ndarray]) -> np.ndarray:
    return COMBINERS[how](np.stack(arrays), axis=0)


def candidates(
    run: SeriesRun, *, max_k: int = 3, combine: bool = True, mase_only: bool = False
) -> list[Candidate]:
    """Every model of `run` and (with `combine`) the combinations described above."""
    if not run.runs:
        return []
    reference_run = run.runs.get(REFERENCE)
    reference = (
        score(run.actuals, reference_run.fold_mean, run.scales)
        if reference_run is not None and run.actuals.size
        else None
    )
    singles = [
        Candidate(
            name,
            label_of(name),
            "model",
            (name,),
            m.fold_mean,
            m.fold_sigma,
            m.mean,
            m.sigma,
            score(run.actuals, m.fold_mean, run.scales) if run.actuals.size else _NO_SCORES,
            reference,
            mase_only,
            m.detail,
        )
        for name, m in run.runs.items()
    ]
    members = [c for c in singles if not _is_benchmark(c.name)]
    if not combine or len(members) < 2:
        return singles
    out = list(singles)
    groups = [("all", members)]
    if len(members) >= 3:
        groups += [(f"without_{c.name}", [m for m in members if m is not c]) for c in members]
    for key, group in groups:
        for how in _combiners(len(group)):
            out.append(_fixed(how, key, group, run, reference, mase_only))
    folds = len(run.actuals)
    if folds >= 2:
        for k in range(2, min(max_k, len(members) - 1) + 1):
            for how in _combiners(k):
                out.append(_best_k(how, k, members, run, reference, mase_only))
    return out


_NO_SCORES = FoldScores(float("nan"), float("nan"), float("nan"), float("nan"))


def _fixed(how, key, group, run, reference, mase_only) -> Candidate:
    fold_mean = _combine(how, [c.fold_mean for c in group])
    without = key.removeprefix("without_")
    label = (
        f"{LABELS[how]} of all" if key == "all" else f"{LABELS[how]} without {label_of(without)}"
    )
    return Candidate(
        f"{how}_{key}",
        label,
        how,
        tuple(c.name for c in group),
        fold_mean,
        np.mean([c.fold_sigma for c in group], axis=0),
        _combine(how, [c.mean for c in group]),
        np.mean([c.sigma for c in group], axis=0),
        score(run.actuals, fold_mean, run.scales) if run.actuals.size else _NO_SCORES,
        reference,
        mase_only,
        ", ".join(c.label for c in group),
    )


def _rank_key(candidate: Candidate, run: SeriesRun, folds: list[int]) -> float:
    scores = score(run.actuals[folds], candidate.fold_mean[folds], run.scales[folds])
    return scores.mase if np.isfinite(scores.mase) else scores.rmse


def _best_k(how, k, members, run, reference, mase_only) -> Candidate:
    folds = len(run.actuals)
    fold_mean, fold_sigma = [], []
    for f in range(folds):
        others = [g for g in range(folds) if g != f]
        chosen = sorted(members, key=lambda c: (_rank_key(c, run, others), c.name))[:k]
        fold_mean.append(_combine(how, [c.fold_mean[f] for c in chosen]))
        fold_sigma.append(np.mean([c.fold_sigma[f] for c in chosen], axis=0))
    best = sorted(members, key=lambda c: (_rank_key(c, run, list(range(folds))), c.name))[:k]
    fold_mean_arr = np.array(fold_mean)
    return Candidate(
        f"{how}_best{k}",
        f"{LABELS[how]} of best {k}",
        how,
        tuple(c.name for c in best),
        fold_mean_arr,
        np.array(fold_sigma),
        _combine(how, [c.mean for c in best]),
        np.mean([c.sigma for c in best], axis=0),
        score(run.actuals, fold_mean_arr, run.scales),
        reference,
        mase_only,
        ", ".join(c.label for c in best),
    )


@dataclass(frozen=True, slots=True)
class Choice:
    """What a series will use, its candidates, and the pooled score behind the choice."""

    chosen: Candidate | None
    found: list[Candidate]
    pooled: float | None = None
    pool_series: int = 1


def pooled_scores(found: Sequence[list[Candidate]]) -> dict[str, float]:
    """Per candidate name, its OWA over every series that has it, M4 style.

    Sums of sMAPE and MASE over those series, each divided by Naive2's sums over the
    same series; MASE alone for intermittent series. Series without a finite MASE or
    without Naive2 (nothing to compare with) do not count.
    """
    sums: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4))
    mase_only: dict[str, bool] = {}
    for series in found:
        for c in series:
            r = c.reference
            values = np.array([c.scores.smape, c.scores.mase, *(r.smape, r.mase)] if r else [])
            if r is None or not np.isfinite(values[[1, 3]]).all():
                continue
            sums[c.name] += np.nan_to_num(values)
            mase_only[c.name] = c.mase_only
    pooled = {}
    for name, (s, m, s2, m2) in sums.items():
        mase_ratio = m / m2 if m2 > 0 else m
        if mase_only[name] or not s2 > 0:
            pooled[name] = float(mase_ratio)
        else:
            pooled[name] = float((s / s2 + mase_ratio) / 2)
    return pooled


def choose(found: list[Candidate], pooled: dict[str, float] | None = None) -> Candidate:
    """The candidate with the lowest pooled score (its own score without a pool).

    Ties go to the candidate listed first (single models come before combinations).
    """
    if pooled:
        return min(found, key=lambda c: pooled.get(c.name, np.inf))
    return min(found, key=lambda c: c.score)

"""Fitting every candidate model of every series: the backtest folds and the final fit.

Series are independent, so they run in joblib worker processes, several series per
task. Inside a worker BLAS and OpenMP are pinned to one thread (threadpoolctl):
statsmodels and scikit-learn otherwise start a thread per core in every process, and
on two cores that oversubscription made the same fits ~10x slower.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.forecasting import metrics
from core.forecasting.backtest import Plan
from core.forecasting.forecasters import MODELS

log = logging.getLogger(__name__)
# Work of fewer series than this stays in the calling process: starting workers costs more.
PARALLEL_MIN_SERIES = 8


@dataclass(frozen=True, slots=True)
class SeriesJob:
    """Everything needed to backtest and forecast one series (picklable)."""

    id: str
    y: pd.Series
    horizon: int
    season_length: int
    models: tuple[str, ...]
    plan: Plan
    X: np.ndarray | None = None
    X_future: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class ModelRun:
    """One model on one series: fold forecasts (folds × backtest horizon) and the final one."""

    name: str
    fold_mean: np.ndarray
    fold_sigma: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SeriesRun:
    """All models of one series, the folds' actual values and MASE scales, and failures."""

    id: str
    runs: dict[str, ModelRun]
    actuals: np.ndarray
    scales: np.ndarray
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _forecast(name: str, job: SeriesJob, end: int | None, h: int):
    spec = MODELS[name]
    y = job.y if end is None else job.y.iloc[:end]
    X = X_next = None
    if spec.uses_exog and job.X is not None:
        X = job.X if end is None else job.X[:end]
        X_next = job.X_future if end is None else job.X[end : end + h]
    model = spec.build(job.season_length).fit(y, X)
    prediction = model.predict(h, X_next)
    mean = np.asarray(prediction.mean, dtype=float)
    sigma = np.asarray(prediction.sigma, dtype=float)
    if not np.all(np.isfinite(mean)):
        raise ValueError("the forecast holds non-finite values")
    return mean, sigma, getattr(model, "description_", "")


def run_series(job: SeriesJob) -> SeriesRun:
    """Backtest every model of `job` on its folds, then fit it on the whole history."""
    started = time.perf_counter()
    values = job.y.to_numpy()
    plan = job.plan
    h_bt = plan.horizon
    actuals = np.array([values[o : o + h_bt] for o in plan.origins]).reshape(plan.folds, h_bt)
    scales = np.array([metrics.mase_scale(values[:o], job.season_length) for o in plan.origins])
    runs: dict[str, ModelRun] = {}
    failures: dict[str, str] = {}
    for name in job.models:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                folds = [_forecast(name, job, o, h_bt) for o in plan.origins]
                mean, sigma, detail = _forecast(name, job, None, job.horizon)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError) as exc:
            failures[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.debug("%s failed on %s: %s", name, job.id, exc)
            continue
        runs[name] = ModelRun(
            name,
            np.array([f[0] for f in folds]).reshape(plan.folds, h_bt),
            np.array([f[1] for f in folds]).reshape(plan.folds, h_bt),
            mean,
            sigma,
            detail,
        )
    return SeriesRun(job.id, runs, actuals, scales, failures, time.perf_counter() - started)


def _run_chunk(jobs: Sequence[SeriesJob]) -> list[SeriesRun]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return [run_series(job) for job in jobs]


def _chunks(jobs: Sequence[SeriesJob], size: int) -> list[Sequence[SeriesJob]]:
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def run_many(
    jobs: Sequence[SeriesJob],
    *,
    n_jobs: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> list[SeriesRun]:
    """Run every job, in worker processes when there are enough; results in job order."""
    total = len(jobs)
    done: dict[str, SeriesRun] = {}
    if n_jobs == 1 or total < PARALLEL_MIN_SERIES:
        for chunk in _chunks(jobs, 1):
            for result in _run_chunk(chunk):
                done[result.id] = result
            if progress:
                progress(len(done), total)
        return [done[job.id] for job in jobs]
    for results in _parallel(jobs, n_jobs):
        for result in results:
            done[result.id] = result
        if progress:
            progress(len(done), total)
    return [done[job.id] for job in jobs]


def _parallel(jobs: Sequence[SeriesJob], n_jobs: int) -> Iterator[list[SeriesRun]]:
    from joblib import Parallel, delayed

    # Small chunks keep the progress bar moving and balance uneven series lengths.
    size = max(1, min(25, len(jobs) // (4 * n_jobs)))
    runner = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    yield from runner(delayed(_run_chunk)(chunk) for chunk in _chunks(jobs, size))

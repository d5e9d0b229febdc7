"""Forecasting many series at once: prepare, backtest, choose, calibrate, assemble.

`forecast_many` is the public entry point for a DataFrame; for a catalog dataset,
`dataset_periods` aggregates in DuckDB over its Parquet file and `forecast_periods`
does the rest (the page and the CLI do so).

Steps: aggregate per series and period (DuckDB) -> prepare each series (gaps, outliers,
checks; series.py) -> backtest and fit the local models in worker processes
(engine.py) -> the global models across series (global_model.py) -> candidates and
the choice (selection.py) -> interval calibration (intervals.py) -> results
(report.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.data import duck
from core.data.catalog import Dataset
from core.errors import UserInputError
from core.forecasting import frequency, global_model, query
from core.forecasting.backtest import plan as make_plan
from core.forecasting.engine import ModelRun, SeriesJob, SeriesRun, run_many
from core.forecasting.forecasters import MODELS
from core.forecasting.frequency import Frequency
from core.forecasting.intervals import Calibrator, normalised
from core.forecasting.report import assemble
from core.forecasting.results import ForecastBatch, ForecastSettings
from core.forecasting.selection import (
    CHOICES,
    REFERENCE,
    Choice,
    candidates,
    choose,
    pooled_scores,
)
from core.forecasting.series import PreparedSeries, prepare

MAX_HORIZON = 366
MAX_SERIES = 20_000
Progress = Callable[[int, int], None]


def _check(settings: ForecastSettings) -> None:
    if not 1 <= settings.horizon <= MAX_HORIZON:
        raise UserInputError(f"The horizon must be between 1 and {MAX_HORIZON} periods.")
    if not 0 <= settings.folds <= 20:
        raise UserInputError("The number of backtest folds must be between 0 and 20.")
    if settings.step is not None and settings.step < 1:
        raise UserInputError("The backtest step must be at least 1 period.")
    known = set(MODELS) | set(global_model.GLOBAL_MODELS)
    unknown = [m for m in settings.models if m not in known]
    if unknown:
        raise UserInputError(
            f"Unknown model {unknown[0]!r}: choose from {', '.join(sorted(known))}."
        )
    if settings.choice not in CHOICES:
        raise UserInputError(f"The choice is made {' or '.join(CHOICES)}.")
    if settings.future_exog not in ("repeat_season", "last", "zero"):
        raise UserInputError("Future regressors are 'repeat_season', 'last' or 'zero'.")


def _models_for(series: PreparedSeries, settings: ForecastSettings, n_train: int) -> list[str]:
    """The local models to try on one series (the reference Naive2 always among them).

    The automatic set is every model registered with `auto`; with regressors, also every
    model that uses them (ARIMA and gradient boosting); intermittent demand gets
    Croston, SBA, TSB and seasonal naive.
    """
    if series.constant:
        return ["naive"]
    m = series.freq.season_length
    if settings.models:
        wanted = [name for name in settings.models if name in MODELS]
    elif series.intermittent:
        wanted = [name for name, spec in MODELS.items() if spec.intermittent]
        wanted += ["seasonal_naive"]
    else:
        wanted = [name for name, spec in MODELS.items() if spec.auto and not spec.intermittent]
        if settings.exog_cols:  # regressors: add every model that can use them
            wanted += [name for name, spec in MODELS.items() if spec.uses_exog]
    fitting = [name for name in wanted if MODELS[name].min_length(m) <= n_train]
    return list(dict.fromkeys([REFERENCE, *fitting]))


def _future_exog(series: PreparedSeries, horizon: int, how: str) -> np.ndarray | None:
    if series.X is None:
        return None
    X, m = series.X, series.freq.season_length
    if how == "zero":
        return np.zeros((horizon, X.shape[1]))
    if how == "last" or len(X) < m:
        return np.repeat(X[-1:], horizon, axis=0)
    steps = np.arange(horizon) % m
    return X[len(X) - m + steps]  # the same period of the last cycle


def _min_train(n: int, season_length: int) -> int:
    """Shortest history a backtest fold trains on: two seasons, but at most half the data."""
    return int(max(4, min(2 * season_length, n // 2)))


def _jobs(prepared: list[PreparedSeries], settings: ForecastSettings) -> list[SeriesJob]:
    jobs = []
    for series in prepared:
        n, m = len(series.y), series.freq.season_length
        plan = make_plan(n, settings.horizon, settings.folds, settings.step, _min_train(n, m))
        n_train = plan.origins[0] if plan.folds else n
        jobs.append(
            SeriesJob(
                series.id,
                series.y,
                settings.horizon,
                m,
                tuple(_models_for(series, settings, n_train)),
                plan,
                series.X if settings.exog_cols else None,
                _future_exog(series, settings.horizon, settings.future_exog),
            )
        )
    return jobs


def _add_global(
    runs: list[SeriesRun],
    jobs: list[SeriesJob],
    prepared: list[PreparedSeries],
    freq: Frequency,
    settings: ForecastSettings,
    n_jobs: int,
) -> list[str]:
    """Backtest and fit the global models; add them to the runs of the series they serve."""
    eligible = [i for i, s in enumerate(prepared) if not s.constant and not s.intermittent]
    if not settings.global_model or len(eligible) < global_model.MIN_SERIES:
        return []
    notes = []
    for spec in global_model.GLOBAL_MODELS.values():
        if settings.models and spec.name not in settings.models:
            continue
        try:
            fitted = global_model.backtest_and_forecast(
                spec,
                [prepared[i].y.to_numpy() for i in eligible],
                [jobs[i].plan for i in eligible],
                freq.season_length,
                settings.horizon,
                n_jobs=n_jobs,
            )
        except ValueError as exc:
            notes.append(f"{spec.label} was skipped: {exc}.")
            continue
        for i, (fold_mean, fold_sigma, final) in zip(eligible, fitted, strict=True):
            runs[i].runs[spec.name] = ModelRun(
                spec.name, fold_mean, fold_sigma, final.mean, final.sigma
            )
    return notes


def forecast_periods(
    periods: pd.DataFrame,
    freq: Frequency,
    settings: ForecastSettings,
    *,
    n_jobs: int = 2,
    progress: Progress | None = None,
) -> ForecastBatch:
    """Forecast aggregated periods (columns id, ds, y, rows and regressors).

    Notes about the aggregation (`periods.attrs["notes"]`) are carried to the result.
    """
    started = time.perf_counter()
    aggregation_notes = list(periods.attrs.get("notes", []))
    _check(settings)
    how = query.aggregation(settings.agg)
    has_negative = bool((periods[query.Y] < 0).any()) if len(periods) else False
    demand = (
        settings.demand
        if settings.demand is not None
        else (how.nature == "flow" and not has_negative)
    )
    prepared, skipped = prepare(
        periods,
        freq,
        nature=how.nature,
        demand=demand,
        outliers=settings.outliers,
        exog_cols=settings.exog_cols,
    )
    if not prepared:
        reason = skipped[0].reason if skipped else "there are no rows"
        raise UserInputError(f"Nothing to forecast: {reason}.")
    if len(prepared) > MAX_SERIES:
        raise UserInputError(
            f"{len(prepared):,} series is more than {MAX_SERIES:,}: filter or group the data."
        )
    jobs = _jobs(prepared, settings)
    runs = run_many(jobs, n_jobs=n_jobs, progress=progress)
    notes = aggregation_notes + _add_global(runs, jobs, prepared, freq, settings, n_jobs)
    choices = _choose_all(runs, prepared, settings)
    calibrator = Calibrator()
    for run, choice in zip(runs, choices, strict=True):
        chosen = choice.chosen
        if chosen is not None and run.actuals.size:
            scores = normalised(run.actuals, chosen.fold_mean, chosen.fold_sigma)
            calibrator.add(chosen.label, scores)
    results = [
        assemble(series, job, run, choice, calibrator, settings)
        for series, job, run, choice in zip(prepared, jobs, runs, choices, strict=True)
    ]
    return ForecastBatch(
        settings=settings,
        freq=freq.name,
        series=tuple(results),
        skipped=tuple(skipped),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


def _choose_all(
    runs: list[SeriesRun], prepared: list[PreparedSeries], settings: ForecastSettings
) -> list[Choice]:
    """Candidates of every series and the choice (see selection.py), per kind of series."""
    found = [
        candidates(
            run, max_k=settings.max_k, combine=settings.combine, mase_only=series.intermittent
        )
        for run, series in zip(runs, prepared, strict=True)
    ]
    pools: dict[bool, dict[str, float]] = {}
    sizes: dict[bool, int] = {}
    if settings.choice == "pooled":
        for kind in (False, True):
            group = [
                f
                for f, s, r in zip(found, prepared, runs, strict=True)
                if s.intermittent is kind and r.actuals.size
            ]
            pools[kind], sizes[kind] = pooled_scores(group), len(group)
    out: list[Choice] = []
    for run, series, series_found in zip(runs, prepared, found, strict=True):
        if not series_found:
            out.append(Choice(None, []))
        elif not run.actuals.size:  # no backtest: the simplest seasonal benchmark
            fallback = next((c for c in series_found if c.name == "seasonal_naive"), None)
            out.append(Choice(fallback or series_found[0], series_found))
        else:
            pool = pools.get(series.intermittent)
            chosen = choose(series_found, pool)
            out.append(
                Choice(
                    chosen,
                    series_found,
                    pool.get(chosen.name) if pool else None,
                    sizes.get(series.intermittent, 1),
                )
            )
    return out


def _connect():
    return duck.connect(memory_limit="1GB", threads=2)


def _resolve_freq(con, source: query.Source, date_col: str, name: str | None) -> Frequency:
    return frequency.get(name) if name else query.detect_frequency(con, source, date_col)


def forecast_many(
    frame: pd.DataFrame,
    id_col: str | None,
    date_col: str,
    value_col: str | None,
    horizon: int,
    *,
    n_jobs: int = 2,
    progress: Progress | None = None,
    **options,
) -> ForecastBatch:
    """Forecast every series of a long table, with intervals and the backtest behind each.

    `frame` holds one row per observation (or per transaction: rows are aggregated per
    series and period, by `agg`, default sum). `id_col` splits it into series (None: one
    series). `options` are the fields of ForecastSettings: freq, agg, models, folds,
    step, combine, max_k, levels, exog_cols, future_exog, demand, outliers,
    global_model. Series that cannot be forecast are listed in `skipped` with the reason.
    """
    settings = ForecastSettings(horizon=int(horizon), **options)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise UserInputError("There are no rows to forecast.")
    con = _connect()
    try:
        source = query.Source.frame(con, frame)
        freq = _resolve_freq(con, source, date_col, settings.freq)
        periods = query.aggregate(
            con,
            source,
            date_col=date_col,
            value_col=value_col,
            freq=freq,
            agg=settings.agg,
            id_col=id_col,
            exog_cols=settings.exog_cols,
        )
    finally:
        con.close()
    return forecast_periods(periods, freq, settings, n_jobs=n_jobs, progress=progress)


def dataset_periods(
    con,
    dataset: Dataset,
    *,
    date_col: str,
    value_col: str | None,
    id_col: str | None = None,
    freq: str | None = None,
    agg: str = "sum",
    exog_cols: Sequence[str] = (),
    filters: Mapping[str, Sequence[object]] | None = None,
    top: int | None = None,
) -> tuple[pd.DataFrame, Frequency]:
    """A dataset version aggregated per series and period in DuckDB, and its frequency."""
    source = query.Source.parquet(con, str(dataset.path))
    resolved = _resolve_freq(con, source, date_col, freq)
    periods = query.aggregate(
        con,
        source,
        date_col=date_col,
        value_col=value_col,
        freq=resolved,
        agg=agg,
        id_col=id_col,
        exog_cols=exog_cols,
        filters=filters,
        top=top,
    )
    return periods, resolved

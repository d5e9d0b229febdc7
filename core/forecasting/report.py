"""Turning one series' runs and choice into its result: forecast, intervals, tables, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.forecasting import intervals
from core.forecasting.backtest import FoldScores
from core.forecasting.engine import SeriesJob, SeriesRun
from core.forecasting.forecasters.baselines import Naive
from core.forecasting.intervals import Calibrator, Multipliers
from core.forecasting.results import ForecastSettings, SeriesForecast
from core.forecasting.selection import Candidate, Choice
from core.forecasting.series import PreparedSeries

LEADERBOARD_COLUMNS = (
    "candidate",
    "label",
    "kind",
    "members",
    "mase",
    "smape",
    "rmse",
    "bias",
    "owa",
    "score",
    "chosen",
)


def _fill_sigma(sigma: np.ndarray) -> np.ndarray:
    sigma = np.asarray(sigma, dtype=float).copy()
    bad = ~np.isfinite(sigma) | (sigma < 0)
    if bad.all():
        return np.zeros_like(sigma)
    if bad.any():  # carry the nearest known value
        sigma = pd.Series(np.where(bad, np.nan, sigma)).ffill().bfill().to_numpy()
    return sigma


def _bounds(mean, sigma, multipliers: Multipliers, level: int, clip: bool):
    q = multipliers.at(level, len(mean))
    lower, upper = mean - q * sigma, mean + q * sigma
    if clip:
        lower = np.maximum(lower, 0.0)
    return lower, upper


def _fallback(series: PreparedSeries, horizon: int) -> Candidate:
    """Naive forecast for a series every model failed on (kept honest by a notice)."""
    prediction = Naive(series.freq.season_length).fit(series.y).predict(horizon)
    nan = float("nan")
    empty = np.zeros((0, 0))
    return Candidate(
        "naive",
        "Naive",
        "model",
        ("naive",),
        empty,
        empty,
        prediction.mean,
        prediction.sigma,
        FoldScores(nan, nan, nan, nan),
        None,
    )


def _coverage(
    run: SeriesRun, chosen: Candidate, calibrator: Calibrator, levels, steps: int
) -> dict[int, float]:
    """Backtested coverage of the calibrated intervals (each fold left out of its calibration)."""
    folds = len(run.actuals)
    if folds == 0:
        return {}
    scores = intervals.normalised(run.actuals, chosen.fold_mean, chosen.fold_sigma)
    sigma = np.apply_along_axis(_fill_sigma, 1, chosen.fold_sigma)
    inside: dict[int, list[float]] = {level: [] for level in levels}
    for f in range(folds):
        others = np.delete(scores, f, axis=0) if folds > 1 else scores
        multipliers = calibrator.multipliers(chosen.label, others, steps)
        for level in levels:
            q = multipliers.at(level, steps)
            inside[level].append(
                intervals.coverage(
                    run.actuals[f : f + 1], chosen.fold_mean[f : f + 1], sigma[f : f + 1], q
                )
            )
    return {level: float(np.mean(v)) for level, v in inside.items()}


def _why(choice: Choice, chosen: Candidate, folds: int, intermittent: bool) -> str:
    if folds == 0:
        return (
            f"{chosen.label}: the history is too short for a backtest, so Beacon uses the "
            "simplest seasonal benchmark."
        )
    measure = "MASE" if intermittent else "OWA (Naive2 = 1)"
    fold_text = f"{folds} fold{'s' if folds != 1 else ''}"
    own_best = min(choice.found, key=lambda c: c.score)
    if choice.pooled is not None and choice.pool_series > 1:
        text = (
            f"{chosen.label} had the best backtest {measure} pooled over the "
            f"{choice.pool_series} series of this run ({choice.pooled:.3f}); on this series "
            f"alone it scored {chosen.score:.3f} over {fold_text}"
        )
        if own_best.name != chosen.name:
            text += (
                f" (best here: {own_best.label}, {own_best.score:.3f}; one series' backtest "
                "is too noisy to choose by)"
            )
    else:
        ranked = sorted(choice.found, key=lambda c: c.score)
        text = (
            f"{chosen.label} had the best backtest {measure}, {chosen.score:.3f}, over {fold_text}"
        )
        runner_up = next((c for c in ranked if c.name != chosen.name), None)
        if runner_up is not None:
            text += f"; next: {runner_up.label} at {runner_up.score:.3f}"
    if chosen.kind != "model":
        text += f". Members: {chosen.detail}"
    return text + "."


def _leaderboard(found: list[Candidate], chosen: Candidate) -> pd.DataFrame:
    rows = [
        {
            "candidate": c.name,
            "label": c.label,
            "kind": c.kind,
            "members": ", ".join(c.members),
            "mase": c.scores.mase,
            "smape": c.scores.smape,
            "rmse": c.scores.rmse,
            "bias": c.scores.bias,
            "owa": c.owa,
            "score": c.score,
            "chosen": c.name == chosen.name,
        }
        for c in sorted(found, key=lambda c: (c.score, c.name))
    ]
    return pd.DataFrame(rows, columns=list(LEADERBOARD_COLUMNS))


def _backtest_table(
    series: PreparedSeries,
    job: SeriesJob,
    run: SeriesRun,
    found: list[Candidate],
    chosen: Candidate,
    multipliers: Multipliers,
    levels,
) -> pd.DataFrame:
    plan = job.plan
    if plan.folds == 0:
        return pd.DataFrame(columns=["fold", "origin", "ds", "step", "actual", "candidate", "yhat"])
    index = series.y.index
    frames = []
    steps = np.arange(1, plan.horizon + 1)
    for f, origin in enumerate(plan.origins):
        dates = index[origin : origin + plan.horizon]
        base = {
            "fold": f + 1,
            "origin": index[origin],
            "ds": dates,
            "step": steps,
            "actual": run.actuals[f],
        }
        for c in found:
            frame = pd.DataFrame({**base, "candidate": c.name, "yhat": c.fold_mean[f]})
            if c.name == chosen.name:
                sigma = _fill_sigma(c.fold_sigma[f])
                for level in levels:
                    q = multipliers.at(level, plan.horizon)
                    frame[f"lo{level}"] = c.fold_mean[f] - q * sigma
                    frame[f"hi{level}"] = c.fold_mean[f] + q * sigma
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _notes(series: PreparedSeries, job: SeriesJob, run: SeriesRun, settings) -> list[str]:
    notes = list(series.notes)
    m, n, plan = series.freq.season_length, len(series.y), job.plan
    if m > 1 and n < 2 * m:
        notes.append(
            f"Fewer than two full seasons ({n} of {2 * m} periods): seasonality is not modelled."
        )
    if series.intermittent:
        notes.append("Intermittent demand: Croston, SBA and TSB were tried, chosen by MASE.")
    if plan.folds == 0:
        notes.append("Too short for a backtest: seasonal naive, with uncalibrated intervals.")
    elif plan.folds < settings.folds:
        notes.append(f"Only {plan.folds} of {settings.folds} backtest folds fit in the history.")
    if plan.folds and plan.horizon < settings.horizon:
        notes.append(
            f"Backtests cover {plan.horizon} periods ahead, fewer than the horizon: "
            "intervals further out reuse the last step's calibration."
        )
    if settings.horizon > n:
        notes.append(
            f"The horizon ({settings.horizon}) is longer than the history ({n}): "
            "treat the far end with care."
        )
    for name, reason in run.failures.items():
        notes.append(f"{name} could not be fitted: {reason}.")
    return notes


def assemble(
    series: PreparedSeries,
    job: SeriesJob,
    run: SeriesRun,
    choice: Choice,
    calibrator: Calibrator,
    settings: ForecastSettings,
) -> SeriesForecast:
    """The SeriesForecast of one series."""
    notes = _notes(series, job, run, settings)
    chosen, found = choice.chosen, choice.found
    if chosen is None:
        chosen = _fallback(series, settings.horizon)
        found = [chosen]
        choice = Choice(chosen, found)
        notes.append("Every model failed on this series: the forecast is naive.")
    steps = max(job.plan.horizon, 1)
    own = (
        intervals.normalised(run.actuals, chosen.fold_mean, chosen.fold_sigma)
        if run.actuals.size and chosen.fold_mean.size
        else np.zeros(0)
    )
    multipliers = calibrator.multipliers(chosen.label, own, steps)
    clip = bool(np.all(series.y.to_numpy() >= 0))
    mean = np.maximum(chosen.mean, 0.0) if clip else chosen.mean
    sigma = _fill_sigma(chosen.sigma)
    dates = pd.date_range(series.y.index[-1], periods=settings.horizon + 1, freq=series.freq.offset)
    forecast = pd.DataFrame({"ds": dates[1:], "yhat": mean})
    for level in intervals.LEVELS:
        lower, upper = _bounds(mean, sigma, multipliers, level, clip)
        forecast[f"lo{level}"], forecast[f"hi{level}"] = lower, upper
    alternatives = pd.concat(
        [pd.DataFrame({"candidate": c.name, "ds": dates[1:], "yhat": c.mean}) for c in found],
        ignore_index=True,
    )
    coverage = (
        _coverage(run, chosen, calibrator, intervals.LEVELS, steps) if chosen.fold_mean.size else {}
    )
    return SeriesForecast(
        id=series.id,
        freq=series.freq.name,
        model=chosen.name,
        model_label=chosen.label,
        members=chosen.members,
        detail=chosen.detail,
        history=series.history,
        forecast=forecast,
        leaderboard=_leaderboard(found, chosen),
        backtest=_backtest_table(series, job, run, found, chosen, multipliers, intervals.LEVELS),
        coverage=coverage,
        interval_source=multipliers.source,
        folds=job.plan.folds,
        why=_why(choice, chosen, job.plan.folds, series.intermittent),
        notes=tuple(notes),
        alternatives=alternatives,
        intermittent=series.intermittent,
    )

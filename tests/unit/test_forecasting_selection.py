"""Combinations, honest best-k backtests, the pooled choice, and calibrated coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.forecasting import forecast_many
from core.forecasting.backtest import plan
from core.forecasting.engine import ModelRun, SeriesRun
from core.forecasting.selection import candidates, choose, pooled_scores, trimmed_mean


def run_of(forecasts: dict[str, list[list[float]]], actuals: list[list[float]]) -> SeriesRun:
    """A fake run: fold forecasts per model (final forecast = last fold's), σ̂ = 1."""
    runs = {}
    for name, folds in forecasts.items():
        mean = np.array(folds, dtype=float)
        runs[name] = ModelRun(name, mean, np.ones_like(mean), mean[-1], np.ones(mean.shape[1]))
    actual = np.array(actuals, dtype=float)
    return SeriesRun("s", runs, actual, np.ones(len(actual)))


def test_rolling_origin_plan():
    p = plan(40, horizon=6, folds=3, step=None, min_train=12)
    assert p.origins == (22, 28, 34) and p.horizon == 6  # last fold ends at the last value
    p = plan(20, horizon=6, folds=3, step=2, min_train=12)
    assert p.origins == (12, 14) and p.folds == 2  # the third fold would train on 10
    p = plan(10, horizon=12, folds=3, step=None, min_train=8)
    assert p.horizon == 2 and p.origins == (8,)  # too short: the backtest horizon shrinks


def test_fixed_combinations_mean_median_and_trimmed():
    assert trimmed_mean(np.array([[1.0], [2], [3], [100]])).tolist() == [2.5]
    run = run_of(
        {
            "naive2": [[10, 10]],
            "theta": [[11, 11]],
            "ets_sa": [[12, 12]],
            "arima": [[13, 13]],
            "global_gbm": [[30, 30]],
        },
        [[12, 12]],
    )
    found = {c.name: c for c in candidates(run)}
    assert found["mean_all"].mean.tolist() == [16.5, 16.5]  # naive2 is a benchmark: left out
    assert found["median_all"].mean.tolist() == [12.5, 12.5]
    assert found["trimmed_all"].mean.tolist() == [12.5, 12.5]  # mean of 12 and 13
    assert found["mean_without_global_gbm"].mean.tolist() == [12, 12]
    assert found["median_without_global_gbm"].members == ("theta", "ets_sa", "arima")
    assert found["ets_sa"].owa == pytest.approx(0.0)
    assert "mean_best2" not in found  # one fold: best-k would rank members on itself


def test_best_k_ranks_members_on_the_other_folds_only():
    # theta is perfect on fold 1 and awful on fold 2; arima the reverse; ets_sa decent.
    run = run_of(
        {
            "naive2": [[0, 0], [0, 0]],
            "theta": [[10, 10], [40, 40]],
            "arima": [[40, 40], [10, 10]],
            "ets_sa": [[12, 12], [12, 12]],
        },
        [[10, 10], [10, 10]],
    )
    best1 = next(c for c in candidates(run, max_k=2) if c.name == "mean_best2")
    # Fold 1 ranks by fold 2: arima (0) then ets_sa (2) -> (40 + 12) / 2 = 26.
    # Fold 2 ranks by fold 1: theta then ets_sa -> (40 + 12) / 2 = 26.
    assert best1.fold_mean.tolist() == [[26, 26], [26, 26]]


def test_pooled_choice_takes_the_best_candidate_over_all_series():
    good_here = run_of({"naive2": [[10]], "theta": [[11]], "arima": [[14]]}, [[11]])
    good_there = run_of({"naive2": [[10]], "theta": [[30]], "arima": [[19]]}, [[20]])
    found = [candidates(good_here, combine=False), candidates(good_there, combine=False)]
    pooled = pooled_scores(found)
    # MASE (scale 1): theta 0 + 10, arima 3 + 1 -> arima wins overall
    assert pooled["arima"] < pooled["theta"]
    assert choose(found[0], pooled).name == "arima"
    assert choose(found[0]).name == "theta"  # alone, each series picks its own best


def test_calibrated_intervals_cover_simulated_futures_near_nominal():
    rng = np.random.default_rng(11)
    n, h, series = 60, 6, 50
    frames, future = [], {}
    for i in range(series):
        noise = rng.normal(0, 1 + i % 5, n + h)
        level = 100 + np.cumsum(rng.normal(0, 0.5, n + h)) + noise
        dates = pd.date_range(end="2024-12-01", periods=n, freq="MS")
        frames.append(pd.DataFrame({"id": f"s{i}", "ds": dates, "y": level[:n]}))
        future[f"s{i}"] = level[n:]
    batch = forecast_many(
        pd.concat(frames),
        "id",
        "ds",
        "y",
        h,
        models=("theta", "arima"),
        folds=3,
        global_model=False,
        n_jobs=1,
        outliers="off",
        agg="mean",
    )
    inside = {80: [], 95: []}
    for result in batch.series:
        y = future[result.id]
        for level in inside:
            lo, hi = result.forecast[f"lo{level}"], result.forecast[f"hi{level}"]
            inside[level].extend(((y >= lo) & (y <= hi)).tolist())
    assert np.mean(inside[80]) == pytest.approx(0.80, abs=0.08)
    assert np.mean(inside[95]) == pytest.approx(0.95, abs=0.05)
    backtested = np.mean([r.coverage[95] for r in batch.series])
    assert backtested == pytest.approx(0.95, abs=0.05)

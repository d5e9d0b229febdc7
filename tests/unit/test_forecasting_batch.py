"""forecast_many end to end: many series, the global models, regressors, results and JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.forecasting import forecast_many
from core.forecasting.export import forecasts_excel, series_table
from core.forecasting.results import FORECAST_COLUMNS


def seasonal_frame(series: int, n: int = 48, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    parts = []
    for i in range(series):
        base = 50 + 20 * i
        y = base * (1 + 0.02 * t / 12) * (1 + 0.25 * np.sin(2 * np.pi * (t + i) / 12))
        y = y * (1 + rng.normal(0, 0.03, n))
        dates = pd.date_range(end="2024-12-01", periods=n, freq="MS")
        parts.append(pd.DataFrame({"sku": f"SKU-{i:02d}", "month": dates, "units": y}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def batch():
    return forecast_many(seasonal_frame(12, n=72), "sku", "month", "units", 6, folds=2, n_jobs=2)


def test_every_series_gets_a_forecast_a_leaderboard_and_a_reason(batch):
    assert batch.freq == "monthly" and len(batch.series) == 12 and not batch.skipped
    first = batch.series[0]
    assert list(first.forecast.columns) == list(FORECAST_COLUMNS)
    assert first.forecast["ds"].iloc[0] == pd.Timestamp("2025-01-01")
    board = first.leaderboard
    assert board["chosen"].sum() == 1 and board.iloc[0]["score"] <= board.iloc[-1]["score"]
    # The automatic set, both global models (12 series) and combinations are compared.
    names = set(board["candidate"])
    assert {"naive2", "theta", "ets_sa", "arima", "global_gbm", "global_gbm_raw"} <= names
    assert {"median_all", "trimmed_all", "mean_best2"} <= names
    assert "pooled over the 12 series" in first.why
    assert set(batch.forecasts()["id"]) == set(batch.ids)
    summary = batch.summary()
    assert summary.loc[summary["candidate"] == "naive2", "owa"].iloc[0] == pytest.approx(1.0)
    # Everything chosen beats Naive2 on this easy, seasonal data.
    assert summary[summary["chosen"] > 0]["owa"].max() < 0.8


def test_backtest_table_and_alternatives(batch):
    result = batch.series[3]
    backtest = result.backtest
    assert set(backtest["fold"]) == {1, 2} and backtest["step"].max() == 6
    chosen_rows = backtest[backtest["candidate"] == result.model]
    assert chosen_rows[["lo80", "hi80", "lo95", "hi95"]].notna().all().all()
    assert set(result.alternatives["candidate"]) == set(result.leaderboard["candidate"])
    assert set(result.coverage) == {80, 95}


def test_json_matches_the_cli_contract(batch):
    payload = json.loads(json.dumps(batch.to_json()))  # JSON-safe: no NaN
    entry = payload["series"][0]
    assert set(entry) == {"id", "freq", "model", "backtest", "forecast"}
    assert set(entry["forecast"][0]) == {"ds", "yhat", "lo80", "hi80", "lo95", "hi95"}
    assert entry["forecast"][0]["ds"] == "2025-01-01"
    assert set(next(iter(entry["backtest"].values()))) == {"mase", "smape"}


def test_downloads_hold_every_series(batch):
    table = series_table(batch)
    assert len(table) == 12 and {"model", "mase", "coverage95", "why"} <= set(table.columns)
    workbook = forecasts_excel(batch)
    assert workbook[:2] == b"PK"  # a zip: xlsx


def test_regressors_let_arima_and_boosting_forecast_a_planned_promotion():
    rng = np.random.default_rng(3)
    n = 60
    dates = pd.date_range(end="2024-12-01", periods=n, freq="MS")
    promo = (dates.month == 11).astype(float)  # every November
    units = 100 + 60 * promo + rng.normal(0, 3, n)
    frame = pd.DataFrame({"date": dates, "units": units, "promo": promo})
    batch = forecast_many(
        frame,
        None,
        "date",
        "units",
        12,
        models=("arima",),
        exog_cols=("promo",),
        folds=2,
        n_jobs=1,
        outliers="off",
        combine=False,
    )
    fc = batch.series[0].forecast.set_index("ds")["yhat"]
    # The future promotion repeats last year's calendar: November 2025 is lifted.
    assert fc[pd.Timestamp("2025-11-01")] - fc.drop(pd.Timestamp("2025-11-01")).mean() > 40
    # With the automatic set, regressors bring in every model that can use them.
    auto = forecast_many(
        frame, None, "date", "units", 3, exog_cols=("promo",), folds=1, n_jobs=1, outliers="off"
    )
    assert {"arima", "gbm"} <= set(auto.series[0].leaderboard["candidate"])


def test_choice_per_series_and_an_explicit_model_list():
    frame = seasonal_frame(3, seed=4)
    batch = forecast_many(
        frame,
        "sku",
        "month",
        "units",
        3,
        models=("theta", "seasonal_naive"),
        choice="per_series",
        folds=2,
        n_jobs=1,
        combine=False,
    )
    for result in batch.series:
        assert set(result.leaderboard["candidate"]) == {"naive2", "theta", "seasonal_naive"}
        best = result.leaderboard.sort_values("score").iloc[0]["candidate"]
        assert result.model == best

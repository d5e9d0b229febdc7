"""The Forecasts page's figure builders: traces, bands, titles and axis labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components import forecast_charts
from core.forecasting import forecast_many


def result():
    rng = np.random.default_rng(6)
    dates = pd.date_range(end="2024-12-01", periods=36, freq="MS")
    y = 100 + 10 * np.sin(2 * np.pi * np.arange(36) / 12) + rng.normal(0, 2, 36)
    y[10] = 300  # an outlier
    frame = pd.DataFrame({"date": dates, "units": y}).drop(index=[20])  # a gap
    batch = forecast_many(
        frame, None, "date", "units", 6, folds=2, n_jobs=1, models=("theta", "seasonal_naive")
    )
    return batch.series[0]


def test_fan_chart_has_bands_history_forecast_and_markers():
    r = result()
    fig = forecast_charts.fan_chart(r.history, r.forecast, title="Units", unit="units")
    names = [t.name for t in fig.data]
    assert names == ["95% interval", "80% interval", "History", "Forecast", "Outlier", "Filled gap"]
    band = fig.data[0]
    assert list(band.y[:6]) == r.forecast["hi95"].tolist()  # upper edge, then lower reversed
    assert list(band.y[6:]) == r.forecast["lo95"].tolist()[::-1]
    forecast = fig.data[3]
    assert (
        forecast.y[0] == r.history["value"].iloc[-1]
        and list(forecast.y[1:]) == r.forecast["yhat"].tolist()
    )
    assert fig.layout.title.text == "Units"
    assert fig.layout.xaxis.title.text == "Period"
    assert fig.layout.yaxis.title.text == "Value (units)"


def test_backtest_leaderboard_and_error_charts():
    r = result()
    fig = forecast_charts.backtest_chart(r.history, r.backtest, r.model, title="Backtest")
    assert [t.name for t in fig.data if t.name.startswith("Fold") and "95%" not in t.name] == [
        "Fold 1",
        "Fold 2",
    ]
    board = forecast_charts.leaderboard_chart(r.leaderboard)
    bars = board.data[0]
    assert list(bars.y)[-1] == r.leaderboard.iloc[0]["label"]  # best at the top
    assert board.layout.xaxis.title.text == "OWA"
    errors = forecast_charts.errors_by_step(r.backtest, r.model, unit="units")
    rows = r.backtest[r.backtest["candidate"] == r.model]
    assert np.allclose(errors.data[0].y, rows["yhat"] - rows["actual"])
    assert errors.layout.xaxis.title.text == "Steps ahead (periods)"
    hist = forecast_charts.residual_histogram(r.backtest, r.model)
    assert hist.layout.yaxis.title.text == "Count"

"""Forecasting: series preparation, a model registry, backtests, choice and calibrated intervals.

The public surface (imported lazily, so loading the store's tables stays light):

* `forecast_many(frame, id_col, date_col, value_col, horizon, ...)` -> ForecastBatch
* `dataset_periods(con, dataset, ...)` + `forecast_periods(periods, freq, settings)`:
  the same from a catalog dataset, aggregated in DuckDB
* `MODELS` (the registry of forecasters), `GLOBAL_MODELS`, `FREQUENCIES`, `AGGREGATIONS`
* saved runs, for pages, supply chain and workflows: `core.forecasting.runs`
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "forecast_many": "core.forecasting.batch",
    "forecast_periods": "core.forecasting.batch",
    "dataset_periods": "core.forecasting.batch",
    "MODELS": "core.forecasting.forecasters",
    "GLOBAL_MODELS": "core.forecasting.global_model",
    "FREQUENCIES": "core.forecasting.frequency",
    "AGGREGATIONS": "core.forecasting.query",
    "ForecastBatch": "core.forecasting.results",
    "ForecastSettings": "core.forecasting.results",
    "SeriesForecast": "core.forecasting.results",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'core.forecasting' has no attribute {name!r}")

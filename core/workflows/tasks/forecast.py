"""Forecast step: forecast a dataset's series with core.forecasting, optionally saving the run.

It prepares the series exactly as `python -m core forecast` does (columns default to the
dataset's date and quantity-or-amount roles) and outputs a compact summary per series;
a saved run is what supply chain and other workflows reuse.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.workflows.tasks.base import Params, StepContext, TaskType, register

MAX_SERIES_IN_OUTPUT = 50


class ForecastParams(Params):
    dataset: str = Field(title="Dataset")
    horizon: int = Field(ge=1, le=500, title="Horizon", description="Periods ahead")
    date_col: str = Field("", title="Date column", description="Empty: the date role")
    value_col: str = Field("", title="Value column", description="Empty: quantity or amount")
    id_col: str = Field("", title="Series column", description="e.g. sku; empty = one series")
    freq: str = Field("", title="Frequency", description="D, W, M, Q or Y; empty = detect")
    top: int = Field(50, ge=1, le=5000, title="Most series", description="The largest by volume")
    folds: int = Field(3, ge=1, le=20, title="Backtest windows")
    save_as: str = Field("", title="Save the run as", description="Empty: not saved")


def run_forecast(ctx: StepContext, params: ForecastParams) -> dict[str, Any]:
    from core.errors import UserInputError
    from core.forecasting import batch, runs
    from core.forecasting.cli import _column
    from core.forecasting.results import ForecastSettings

    services, user = ctx.services, ctx.user
    dataset = services.catalog.get(user, params.dataset)
    date_col = _column(dataset, params.date_col or None, ("date",), "Date column")
    value_col = _column(dataset, params.value_col or None, ("quantity", "amount"), "Value column")
    if params.id_col and params.id_col not in dataset.roles:
        raise UserInputError(f"Series column: there is no column {params.id_col!r}.")
    settings = ForecastSettings(
        horizon=params.horizon, freq=params.freq or None, folds=params.folds
    )
    con = services.catalog.connect()
    try:
        periods, freq = batch.dataset_periods(
            con,
            dataset,
            date_col=date_col,
            value_col=value_col,
            id_col=params.id_col or None,
            freq=params.freq or None,
            agg="sum",
            exog_cols=(),
            top=params.top,
        )
    finally:
        con.close()
    result = batch.forecast_periods(periods, freq, settings, n_jobs=1)
    out: dict[str, Any] = {
        "freq": result.freq,
        "series_count": len(result.series),
        "series": [
            {
                "id": s.id,
                "model": s.model_label,
                "forecast": [
                    {
                        "ds": f"{row.ds:%Y-%m-%d}",
                        "yhat": round(float(row.yhat), 4),
                        "lo95": round(float(row.lo95), 4),
                        "hi95": round(float(row.hi95), 4),
                    }
                    for row in s.forecast.itertuples()
                ],
            }
            for s in result.series[:MAX_SERIES_IN_OUTPUT]
        ],
        "skipped": [{"id": s.id, "reason": s.reason} for s in result.skipped],
    }
    if params.save_as:
        saved = runs.save_run(
            services.store,
            user,
            result,
            name=params.save_as,
            dataset=dataset.name,
            dataset_version=dataset.version,
            source={"date_col": date_col, "value_col": value_col, "id_col": params.id_col or None},
        )
        out["run_id"] = saved.id
    ctx.log(f"{len(result.series)} series forecast {params.horizon} {result.freq} periods ahead")
    return out


register(
    TaskType(
        name="forecast",
        label="Forecast",
        help="Forecast a dataset's series with intervals; optionally save the run for reuse.",
        params=ForecastParams,
        run=run_forecast,
    )
)

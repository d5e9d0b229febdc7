"""KPI-check step: a metric against a threshold, true or false.

The metric is either one of the KPI library's metrics over a dataset and a date preset
(revenue, orders, AOV, margin, ... over the last 7 days as of the dataset's last date),
computed by core.kpis exactly as the KPI page shows it, or any one-value SELECT.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.errors import UserInputError
from core.workflows.tasks.base import Params, StepContext, TaskType, register
from core.workflows.tasks.query import OPERATORS, check_metric, json_value


class KpiCheckParams(Params):
    dataset: str = Field("", title="Dataset", description="For a KPI library metric")
    metric: str = Field(
        "", title="KPI", description="A KPI key of the dataset, e.g. revenue, orders, aov"
    )
    period: str = Field(
        "last_7",
        title="Period",
        description="A KPI date preset (last_7, last_30, mtd, last_month, ...), as of the "
        "dataset's last date",
    )
    sql: str = Field(
        "",
        title="Or: metric SQL",
        description="A SELECT whose first value is the metric, instead of dataset and KPI",
        json_schema_extra={"multiline": True},
    )
    operator: Literal["<", "<=", ">", ">=", "==", "!="] = Field(
        ">=", title="Passes when the metric is"
    )
    threshold: float = Field(title="Threshold")

    @model_validator(mode="after")
    def _one_source(self) -> KpiCheckParams:
        if self.sql and (self.dataset or self.metric):
            raise ValueError("give either a dataset and a KPI, or a metric SQL, not both")
        return self


def kpi_value(ctx: StepContext, dataset_name: str, metric: str, period: str) -> dict[str, Any]:
    """A KPI library metric of a dataset over a preset window (core.kpis, as on its page)."""
    from core.kpis import metrics, periods, queries, source

    dataset = ctx.services.catalog.get(ctx.user, dataset_name)
    kpi_source = source.from_dataset(dataset)
    available = metrics.catalog(kpi_source)
    if metric not in available:
        raise UserInputError(
            f"{dataset_name} has no KPI {metric!r}; choose one of: {', '.join(sorted(available))}."
        )
    con = ctx.services.catalog.connect()
    try:
        runner = source.DuckRunner(con, kpi_source)
        span = queries.date_range(runner, kpi_source)
        if span is None:
            raise UserInputError(f"{dataset_name} has no dated rows to compute {metric} over.")
        window = periods.resolve(period, span[1])
        frame = queries.totals(runner, kpi_source, [available[metric]], {"current": window})
    finally:
        con.close()
    value = json_value(frame.loc["current", metric])
    return {"metric": available[metric].label, "value": value, "window": window.describe()}


def run_kpi_check(ctx: StepContext, params: KpiCheckParams) -> dict[str, Any]:
    if params.sql:
        return check_metric(ctx, params.sql, params.operator, params.threshold)
    if not (params.dataset and params.metric):
        raise UserInputError("Give a dataset and a KPI, or a metric SQL.")
    found = kpi_value(ctx, params.dataset, params.metric, params.period)
    value = found["value"]
    passed = value is not None and bool(OPERATORS[params.operator](value, params.threshold))
    ctx.log(f"{found['metric']} {found['window']} = {value} {params.operator} {params.threshold:g}")
    return found | {"operator": params.operator, "threshold": params.threshold, "passed": passed}


register(
    TaskType(
        name="kpi_check",
        label="KPI check",
        help="Compare a KPI (or a one-value SELECT) with a threshold; output passed true/false.",
        params=KpiCheckParams,
        run=run_kpi_check,
    )
)

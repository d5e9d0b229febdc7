"""Custom metrics: an aggregation of one column with an optional filter, saved per dataset.

Definitions are data, never SQL: the aggregation and operator come from fixed lists, the
column must exist in the dataset, and filter values are converted to the column's type
and bound as parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.data.roles import NUMERIC, TEMPORAL
from core.errors import NotFound, UserInputError
from core.kpis.metrics import COUNT, NUMBER, Component, Metric, ratio, value_of
from core.kpis.models import KpiCustomMetricRow
from core.kpis.source import KpiSource
from core.store import Store

AGGREGATIONS = {
    "sum": "Sum",
    "avg": "Average",
    "count": "Count of rows",
    "count_distinct": "Distinct count",
    "min": "Minimum",
    "max": "Maximum",
}
NUMERIC_ONLY = {"sum", "avg"}
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in", "not in", "is empty", "is not empty")
NO_VALUE = {"is empty", "is not empty"}
MAX_LABEL = 100


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """Which rows a custom metric counts: column, operator and values (as text)."""

    column: str
    op: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomMetric:
    """A saved custom metric definition."""

    id: int
    dataset: str
    label: str
    aggregation: str
    column: str | None
    filter: MetricFilter | None
    up_is_bad: bool = False

    @property
    def key(self) -> str:
        return f"custom:{self.id}"


def _typed(source: KpiSource, column: str, text: str) -> Any:
    kind = source.kind_of(column)
    try:
        if kind == NUMERIC:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if kind == TEMPORAL:
            return date.fromisoformat(text.strip())
    except ValueError:
        wanted = "a number" if kind == NUMERIC else "a date like 2024-01-31"
        raise UserInputError(f"Filter value {text!r} for {column!r} must be {wanted}.") from None
    return text


def validate(
    source: KpiSource,
    label: str,
    aggregation: str,
    column: str | None,
    metric_filter: MetricFilter | None,
) -> tuple[str, str, str | None, MetricFilter | None]:
    """The definition, checked against the source; a UserInputError says what to fix."""
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise UserInputError(f"Give the metric a name of 1-{MAX_LABEL} characters.")
    if aggregation not in AGGREGATIONS:
        raise UserInputError(
            f"Unknown aggregation {aggregation!r}: choose {', '.join(AGGREGATIONS)}."
        )
    if column is None and aggregation != "count":
        raise UserInputError(f"{AGGREGATIONS[aggregation]} needs a column.")
    if column is not None:
        source.column(column)
        if aggregation in NUMERIC_ONLY and source.kind_of(column) != NUMERIC:
            raise UserInputError(
                f"{AGGREGATIONS[aggregation]} needs a numeric column; {column!r} is not."
            )
    if metric_filter is not None:
        source.column(metric_filter.column)
        if metric_filter.op not in OPERATORS:
            raise UserInputError(
                f"Unknown filter operator {metric_filter.op!r}: choose {', '.join(OPERATORS)}."
            )
        values = tuple(v.strip() for v in metric_filter.values if v.strip())
        if metric_filter.op in NO_VALUE:
            values = ()
        elif not values:
            raise UserInputError(f"The filter on {metric_filter.column!r} needs a value.")
        elif metric_filter.op not in ("in", "not in") and len(values) > 1:
            raise UserInputError(f"Operator {metric_filter.op!r} takes one value.")
        for value in values:
            _typed(source, metric_filter.column, value)
        metric_filter = MetricFilter(metric_filter.column, metric_filter.op, values)
    return label, aggregation, column, metric_filter


def _condition(source: KpiSource, f: MetricFilter) -> Callable[[Any], sa.ColumnElement[bool]]:
    values = [_typed(source, f.column, v) for v in f.values]

    def build(base) -> sa.ColumnElement[bool]:
        col = base.col(f.column)
        ops: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
            "=": lambda: col == values[0],
            "!=": lambda: col != values[0],
            ">": lambda: col > values[0],
            ">=": lambda: col >= values[0],
            "<": lambda: col < values[0],
            "<=": lambda: col <= values[0],
            "in": lambda: col.in_(values),
            "not in": lambda: col.not_in(values),
            "is empty": lambda: col.is_(None),
            "is not empty": lambda: col.is_not(None),
        }
        return ops[f.op]()

    return build


def to_metric(custom: CustomMetric, source: KpiSource) -> Metric:
    """The custom definition as a Metric over `source`."""
    key, agg, name = custom.key, custom.aggregation, custom.column
    where = _condition(source, custom.filter) if custom.filter else None

    def value(base) -> sa.ColumnElement:
        column = base.col(name) if name else sa.literal(1)
        return sa.case((where(base), column)) if where else column

    simple = {
        "sum": (lambda b: sa.func.sum(value(b)), True),
        "count": (lambda b: sa.func.count(value(b)), True),
        "count_distinct": (lambda b: sa.func.count(sa.distinct(value(b))), False),
        "min": (lambda b: sa.func.min(value(b)), False),
        "max": (lambda b: sa.func.max(value(b)), False),
    }
    columns = tuple(c for c in (name, custom.filter.column if custom.filter else None) if c)
    common = dict(
        columns=columns, up_is_bad=custom.up_is_bad, group="Custom", help=describe(custom)
    )
    if agg == "avg":
        total = Component(f"{key}:sum", lambda b: sa.func.sum(value(b)))
        count = Component(f"{key}:n", lambda b: sa.func.count(value(b)))
        return Metric(
            key,
            custom.label,
            NUMBER,
            (total, count),
            lambda c: ratio(c[total.key], c[count.key]),
            gap=True,
            accumulates=False,
            **common,
        )
    build, additive = simple[agg]
    component = Component(key, build, additive=additive)
    unit = COUNT if agg in ("count", "count_distinct") else NUMBER
    return Metric(
        key,
        custom.label,
        unit,
        (component,),
        value_of(key),
        gap=agg in ("min", "max"),
        accumulates=agg not in ("min", "max"),
        **common,
    )


def describe(custom: CustomMetric) -> str:
    """'Sum of amount where channel = Online'."""
    what = AGGREGATIONS[custom.aggregation] + (f" of {custom.column}" if custom.column else "")
    if custom.filter is None:
        return what
    f = custom.filter
    return f"{what} where {f.column} {f.op} {', '.join(f.values)}".rstrip()


def _from_row(row: KpiCustomMetricRow) -> CustomMetric:
    f = row.filter
    return CustomMetric(
        row.id,
        row.dataset,
        row.label,
        row.aggregation,
        row.column,
        MetricFilter(f["column"], f["op"], tuple(f.get("values", ()))) if f else None,
        row.up_is_bad,
    )


def save(
    store: Store,
    user: User,
    source: KpiSource,
    label: str,
    aggregation: str,
    column: str | None = None,
    metric_filter: MetricFilter | None = None,
    up_is_bad: bool = False,
) -> CustomMetric:
    """Validate and store a custom metric for the dataset `source.name`."""
    require(user, Role.ANALYST, "Defining metrics")
    label, aggregation, column, metric_filter = validate(
        source, label, aggregation, column, metric_filter
    )
    stored = (
        {
            "column": metric_filter.column,
            "op": metric_filter.op,
            "values": list(metric_filter.values),
        }
        if metric_filter
        else None
    )
    try:
        with store.session() as s:
            row = KpiCustomMetricRow(
                dataset=source.name,
                label=label,
                aggregation=aggregation,
                column=column,
                filter=stored,
                up_is_bad=up_is_bad,
                created_by=user.email,
            )
            s.add(row)
            s.flush()
            audit.record(
                s,
                user,
                "kpi.metric.create",
                source.name,
                label=label,
                aggregation=aggregation,
                column=column,
                filter=stored,
            )
            return _from_row(row)
    except IntegrityError:
        raise UserInputError(
            f"{source.name} already has a metric called {label!r}: choose another name."
        ) from None


def list_custom(store: Store, user: User, dataset: str) -> list[CustomMetric]:
    """The custom metrics saved for a dataset, by name."""
    require(user, Role.VIEWER, "Reading metrics")
    with store.session() as s:
        rows = s.scalars(
            select(KpiCustomMetricRow)
            .where(KpiCustomMetricRow.dataset == dataset)
            .order_by(KpiCustomMetricRow.label)
        )
        return [_from_row(r) for r in rows]


def delete(store: Store, user: User, metric_id: int) -> None:
    """Remove a custom metric."""
    require(user, Role.ANALYST, "Deleting metrics")
    with store.session() as s:
        row = s.get(KpiCustomMetricRow, metric_id)
        if row is None:
            raise NotFound(f"No custom metric with id {metric_id}.")
        audit.record(s, user, "kpi.metric.delete", row.dataset, label=row.label)
        s.delete(row)


def metrics_for(store: Store, user: User, source: KpiSource) -> list[Metric]:
    """The dataset's custom metrics as Metrics; ones whose columns are gone are skipped."""
    found = []
    names = {c.name for c in source.columns}
    for custom in list_custom(store, user, source.name):
        used = {custom.column, custom.filter.column if custom.filter else None} - {None}
        if used <= names:
            found.append(to_metric(custom, source))
    return found

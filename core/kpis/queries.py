"""KPI queries: totals over windows, series by grain, breakdowns, dimension values.

Each function builds one SQLAlchemy statement over `build_base`, runs it through the
runner (DuckDB or a warehouse) and returns a DataFrame with documented columns. A period
without rows is never dropped: series are completed to every period of the range, with
zero for counts and sums and a gap (NaN) for ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.errors import UserInputError
from core.kpis import grains
from core.kpis.base import EMPTY, Filters, as_text, build_base, dimension_columns, filter_condition
from core.kpis.metrics import Component, Metric, components_of, evaluate
from core.kpis.periods import Window
from core.kpis.source import KpiSource, Runner

MAX_DIMENSION_VALUES = 500
OTHER = "Other"


def _aggregates(base, components: dict[str, Component]) -> list[sa.ColumnElement]:
    return [c.build(base).label(key) for key, c in components.items()]


def _needs(metrics: Sequence[Metric]) -> tuple[dict[str, Component], list[str], bool]:
    components = components_of(metrics)
    columns = [name for m in metrics for name in m.columns]
    lifetime = any(c.lifetime for c in components.values())
    return components, columns, lifetime


def _values(metrics: Sequence[Metric], frame: pd.DataFrame) -> pd.DataFrame:
    """One column per metric, computed from the component columns of `frame`."""
    parts = {
        key: pd.to_numeric(frame[key], errors="coerce").astype("float64")
        for key in components_of(metrics)
    }
    return pd.DataFrame({m.key: evaluate(m, parts) for m in metrics}, index=frame.index)


def totals(
    runner: Runner,
    source: KpiSource,
    metrics: Sequence[Metric],
    windows: dict[str, Window],
    filters: Filters = (),
) -> pd.DataFrame:
    """Metric values over each named window: index = window name, one column per metric."""
    components, columns, lifetime = _needs(metrics)
    selects = []
    for name, window in windows.items():
        base = build_base(
            runner,
            source,
            filters=filters,
            start=window.start,
            end_exclusive=window.end_exclusive,
            columns=columns,
            lifetime=lifetime,
            bucket_value=window.start,
        )
        selects.append(
            sa.select(
                sa.literal(name, sa.String).label("window"),
                sa.func.count().label("_rows"),
                *_aggregates(base, components),
            )
        )
    statement = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    frame = runner.frame(statement).set_index("window").reindex(list(windows))
    values = _values(metrics, frame)
    empty = frame["_rows"].fillna(0) == 0
    for metric in metrics:  # a window without rows: zero, or a gap for ratios
        if not metric.gap:
            values.loc[empty, metric.key] = 0.0
    values.insert(0, "rows", frame["_rows"].fillna(0).astype("int64"))
    return values


def series(
    runner: Runner,
    source: KpiSource,
    metrics: Sequence[Metric],
    grain: str,
    window: Window,
    filters: Filters = (),
) -> pd.DataFrame:
    """Metric values per period of `grain` over `window`.

    Columns: period (date, the period's first day), label, partial (the window covers
    only part of the period), rows_present, then one column per metric.
    """
    grains.check_grain(grain)
    components, columns, lifetime = _needs(metrics)
    base = build_base(
        runner,
        source,
        filters=filters,
        start=window.start,
        end_exclusive=window.end_exclusive,
        grain=grain,
        columns=columns,
        lifetime=lifetime,
    )
    statement = (
        sa.select(base.sub.c.period, sa.func.count().label("_rows"), *_aggregates(base, components))
        .group_by(base.sub.c.period)
        .order_by(base.sub.c.period)
    )
    frame = runner.frame(statement)
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    starts = grains.period_starts(window.start, window.end, grain)
    frame = frame.set_index("period").reindex(starts)
    present = frame["_rows"].fillna(0).astype("int64")
    values = _values(metrics, frame)
    for metric in metrics:
        if not metric.gap:
            values.loc[present == 0, metric.key] = 0.0
    ends = [grains.step(s, grain) for s in starts]
    out = pd.DataFrame(
        {
            "period": starts,
            "label": [grains.label(s, grain) for s in starts],
            "partial": [
                s < window.start or e > window.end_exclusive
                for s, e in zip(starts, ends, strict=True)
            ],
            "rows_present": present.to_numpy(),
        }
    )
    for metric in metrics:
        out[metric.key] = values[metric.key].to_numpy()
    return out


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A metric split by a dimension: the top N values and one 'Other' row."""

    dimension: str
    metric: str
    table: pd.DataFrame  # columns: value, <metric>, share (of the total), is_other
    total: float
    values_count: int


def breakdown(
    runner: Runner,
    source: KpiSource,
    metric: Metric,
    dimension: str,
    window: Window,
    filters: Filters = (),
    top: int = 10,
) -> Breakdown:
    """`metric` by `dimension` over `window`, the `top` values by size and the rest as Other.

    Other is exact for every metric: additive components are summed, and metrics built on
    distinct counts or ratios are recomputed over the remaining rows by a second query.
    """
    if dimension not in dimension_columns(source):
        raise UserInputError(f"{dimension!r} is not a column to break {source.name} down by.")
    if not 1 <= top <= 100:
        raise UserInputError("Show between 1 and 100 values in a breakdown.")
    components, columns, lifetime = _needs([metric])

    def dim(table):
        return sa.func.coalesce(as_text(table.c[dimension], source, dimension), EMPTY)

    def grouped(extra_filters: Filters, keep: list[str] | None, base_only: bool = False):
        base = build_base(
            runner,
            source,
            filters=extra_filters,
            start=window.start,
            end_exclusive=window.end_exclusive,
            columns=columns,
            lifetime=lifetime,
            extra={"dim": dim},
            bucket_value=window.start,
        )
        if base_only:
            return base
        select = sa.select(base.sub.c.dim, *_aggregates(base, components))
        if keep is None:
            return select.group_by(base.sub.c.dim)
        return sa.select(*_aggregates(base, components)).where(base.sub.c.dim.not_in(keep))

    if metric.direct:
        rows, whole, count = _ranked_in_sql(runner, source, grouped, filters, metric, window, top)
    else:
        rows, whole, count = _ranked_in_python(
            runner, source, grouped, filters, metric, window, top
        )
    share = rows[metric.key] / whole if whole and np.isfinite(whole) else np.nan
    rows = rows.assign(share=share).reset_index(drop=True)
    return Breakdown(dimension, metric.key, rows, float(whole), count)


def _other_row(metric: Metric, others: int, value: float) -> pd.DataFrame:
    return pd.DataFrame({"value": [f"{OTHER} ({others})"], metric.key: [value], "is_other": [True]})


def _ranked_in_sql(runner, source, grouped, filters, metric: Metric, window, top: int):
    """A metric that is one aggregate: ranked and cut by the database in one scan.

    The top rows come with the number of groups and, for sums and counts, the total
    (window functions over the grouped rows); distinct counts get their total and Other
    from two more queries, since they do not add up.
    """
    (component,) = metric.components
    base = grouped(filters, None, base_only=True)
    groups = (
        sa.select(base.sub.c.dim.label("value"), component.build(base).label("v"))
        .group_by(base.sub.c.dim)
        .subquery("groups")
    )
    head = runner.frame(
        sa.select(
            groups.c.value,
            groups.c.v,
            sa.func.count().over().label("groups"),
            sa.func.sum(groups.c.v).over().label("whole"),
        )
        .order_by(sa.desc(groups.c.v).nulls_last(), groups.c.value)
        .limit(top)
    )
    count = int(head["groups"].iloc[0]) if len(head) else 0
    values = pd.to_numeric(head["v"], errors="coerce").astype("float64")
    if not component.additive:
        whole = totals(runner, source, [metric], {"all": window}, filters)[metric.key].iloc[0]
    elif count:
        whole = pd.to_numeric(head["whole"], errors="coerce").fillna(0).iloc[0]
    else:
        whole = 0.0
    rows = pd.DataFrame({"value": head["value"].astype(str), metric.key: values, "is_other": False})
    if count > len(head):
        if component.additive:
            other_value = float(whole) - float(values.fillna(0).sum())
        else:
            other = runner.frame(grouped(filters, rows["value"].tolist()))
            other_value = float(pd.to_numeric(other[component.key]).iloc[0])
        rows = pd.concat([rows, _other_row(metric, count - len(head), other_value)])
    return rows, float(whole), count


def _ranked_in_python(runner, source, grouped, filters, metric: Metric, window, top: int):
    """Any other metric: every group's components, the formula, then the ranking."""
    components = components_of([metric])
    frame = runner.frame(grouped(filters, None))
    frame["value"] = frame["dim"].astype(str)
    frame[metric.key] = _values([metric], frame)[metric.key].to_numpy()
    frame = frame.sort_values([metric.key, "value"], ascending=[False, True], na_position="last")
    head, rest = frame.head(top), frame.iloc[top:]
    rows = head[["value", metric.key]].assign(is_other=False)
    additive = all(c.additive for c in components.values())
    if not rest.empty:
        if additive:
            sums = {k: rest[k].astype("float64").sum() for k in components}
            other_value = evaluate(metric, sums)
        else:
            other = runner.frame(grouped(filters, head["value"].tolist()))
            other_value = _values([metric], other)[metric.key].iloc[0]
        rows = pd.concat([rows, _other_row(metric, len(rest), other_value)], ignore_index=True)
    if additive:  # every row is in exactly one group, so the groups add up to the total
        whole = evaluate(metric, {k: frame[k].astype("float64").sum() for k in components})
    else:
        whole = totals(runner, source, [metric], {"all": window}, filters)[metric.key].iloc[0]
    return rows, whole, len(frame)


def dimension_values(
    runner: Runner, source: KpiSource, column: str, filters: Filters = ()
) -> pd.DataFrame:
    """Values of a dimension with their row counts (most frequent first): value, rows."""
    if column not in dimension_columns(source):
        raise UserInputError(f"{column!r} is not a column to filter {source.name} by.")
    table = runner.table()
    others = tuple((c, v) for c, v in filters if c != column)
    # Grouped in an outer query: the same bound value twice would not match GROUP BY.
    inner = (
        sa.select(sa.func.coalesce(as_text(table.c[column], source, column), EMPTY).label("value"))
        .where(filter_condition(table, source, others))
        .subquery("values")
    )
    statement = (
        sa.select(inner.c.value, sa.func.count().label("rows"))
        .group_by(inner.c.value)
        .order_by(sa.func.count().desc(), inner.c.value)
        .limit(MAX_DIMENSION_VALUES)
    )
    frame = runner.frame(statement)
    frame["rows"] = frame["rows"].astype("int64")
    return frame


def date_range(runner: Runner, source: KpiSource) -> tuple[date, date] | None:
    """First and last date in the source (None when it has no dated rows)."""
    name = source.column_for("date")
    if name is None:
        raise UserInputError(f"{source.name} has no column with the Date role.")
    table = runner.table()
    frame = runner.frame(
        sa.select(sa.func.min(table.c[name]).label("lo"), sa.func.max(table.c[name]).label("hi"))
    )
    lo, hi = frame["lo"].iloc[0], frame["hi"].iloc[0]
    if lo is None or pd.isna(lo):
        return None
    return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()

"""The rows a KPI query aggregates: the source's columns, filtered, with period buckets.

`build_base` returns a subquery whose columns have fixed names (`d` for the date,
`r_<role>` for role columns, `x<i>` for other columns a metric reads, `period` for the
grain bucket, `first_seen`/`second_seen` for each customer's first two order dates), so
metric components are written once against those names whatever the dataset calls them.
Every value (dates, filter values, the file path) is a bound parameter; identifiers are
quoted by SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core.data.roles import ROLES, TEXT
from core.errors import UserInputError
from core.kpis.grains import check_grain
from core.kpis.source import KpiSource, Runner

EMPTY = "(empty)"  # how a missing dimension value is shown and filtered
Filters = tuple[tuple[str, tuple[str, ...]], ...]


def normalise_filters(filters: Mapping[str, Iterable[str]] | Filters | None) -> Filters:
    """Filters as a sorted tuple of (column, sorted values), dropping empty selections."""
    items = filters.items() if isinstance(filters, Mapping) else (filters or ())
    return tuple(
        sorted(
            (column, tuple(sorted({str(v) for v in values}))) for column, values in items if values
        )
    )


def dimension_columns(source: KpiSource) -> list[str]:
    """Columns a page may filter and break down by: text and yes/no columns, not IDs."""
    skip = {"date", "order_id", "customer_id"}
    return [
        c.name
        for c in source.columns
        if c.role not in skip and (source.kind_of(c.name) == TEXT or c.type.upper() == "BOOLEAN")
    ]


def as_text(column: sa.ColumnElement, source: KpiSource, name: str) -> sa.ColumnElement:
    """A dimension column compared as text (values arrive as text from widgets and URLs)."""
    return column if source.kind_of(name) == TEXT else sa.cast(column, sa.String)


def filter_condition(
    table: sa.FromClause, source: KpiSource, filters: Filters
) -> sa.ColumnElement[bool]:
    """AND of `column IN (values)` per filtered column; EMPTY stands for missing values."""
    conditions: list[sa.ColumnElement[bool]] = []
    for name, values in filters:
        source.column(name)  # unknown columns are refused, never guessed
        column = as_text(table.c[name], source, name)
        present = [v for v in values if v != EMPTY]
        parts = [column.in_(present)] if present else []
        if EMPTY in values:
            parts.append(table.c[name].is_(None))
        conditions.append(sa.or_(*parts))
    return sa.and_(sa.true(), *conditions)


@dataclass(frozen=True, slots=True)
class Base:
    """The filtered rows as a subquery, and accessors the metric components use."""

    sub: sa.Subquery
    source: KpiSource
    raw: Mapping[str, str]
    bucket_value: date | None = None

    def role(self, role: str) -> sa.ColumnElement:
        return self.sub.c[f"r_{role}"]

    def col(self, name: str) -> sa.ColumnElement:
        return self.sub.c[self.raw[name]]

    @property
    def date(self) -> sa.ColumnElement:
        return self.sub.c.d

    @property
    def bucket(self) -> sa.ColumnElement:
        """Start of the period a row is counted in: the grain bucket, or the window start."""
        if self.bucket_value is not None:
            return sa.literal(self.bucket_value, sa.Date)
        return self.sub.c.period

    @property
    def first_seen(self) -> sa.ColumnElement:
        return self.sub.c.first_seen

    @property
    def second_seen(self) -> sa.ColumnElement:
        return self.sub.c.second_seen


def period_expression(column: sa.ColumnElement, grain: str) -> sa.ColumnElement:
    """date_trunc to the grain, as a DATE (same SQL on DuckDB and PostgreSQL)."""
    # The grain comes from the fixed GRAINS tuple, never from free text.
    unit = sa.literal_column(f"'{check_grain(grain)}'")
    return sa.cast(sa.func.date_trunc(unit, sa.cast(column, sa.DateTime)), sa.Date)


def _lifetime(runner: Runner, source: KpiSource, filters: Filters) -> sa.Subquery:
    """Each customer's first and second order dates under the filters (all time)."""
    table = runner.table()
    customer = table.c[source.column_for("customer_id")]
    day = table.c[source.column_for("date")]
    where = filter_condition(table, source, filters)
    order_name = source.column_for("order_id")
    if order_name:
        order = table.c[order_name]
        orders = (
            sa.select(customer.label("customer"), order.label("o"), sa.func.min(day).label("od"))
            .where(where, customer.is_not(None))
            .group_by(customer, order)
            .subquery("orders")
        )
        key = (orders.c.od, orders.c.o)
    else:
        orders = (
            sa.select(customer.label("customer"), day.label("od"))
            .where(where, customer.is_not(None))
            .subquery("orders")
        )
        key = (orders.c.od,)
    rank = sa.func.row_number().over(partition_by=orders.c.customer, order_by=key)
    ranked = sa.select(orders.c.customer, orders.c.od, rank.label("n")).subquery("ranked")
    return (
        sa.select(
            ranked.c.customer,
            sa.func.min(sa.case((ranked.c.n == 1, ranked.c.od))).label("first_seen"),
            sa.func.min(sa.case((ranked.c.n == 2, ranked.c.od))).label("second_seen"),
        )
        .where(ranked.c.n <= 2)
        .group_by(ranked.c.customer)
        .subquery("lifetime")
    )


def build_base(
    runner: Runner,
    source: KpiSource,
    *,
    filters: Filters = (),
    start: date | None = None,
    end_exclusive: date | None = None,
    grain: str | None = None,
    columns: Iterable[str] = (),
    lifetime: bool = False,
    extra: Mapping[str, sa.ColumnElement] | None = None,
    bucket_value: date | None = None,
) -> Base:
    """The filtered rows in [start, end_exclusive) with the named columns a query needs."""
    date_name = source.column_for("date")
    if date_name is None:
        raise UserInputError(f"{source.name} has no column with the Date role.")
    table = runner.table()
    day = table.c[date_name]
    selected: list[sa.ColumnElement] = [day.label("d")]
    for role in ROLES:
        name = source.column_for(role)
        if name and role != "date":
            selected.append(table.c[name].label(f"r_{role}"))
    raw = {}
    for name in dict.fromkeys(columns):
        source.column(name)
        raw[name] = f"x{[c.name for c in source.columns].index(name)}"
        selected.append(table.c[name].label(raw[name]))
    if grain is not None:
        selected.append(period_expression(day, grain).label("period"))
    for label, build in (extra or {}).items():
        selected.append(build(table).label(label) if callable(build) else build.label(label))
    conditions = [filter_condition(table, source, filters)]
    if start is not None:
        conditions.append(day >= start)
    if end_exclusive is not None:
        conditions.append(day < end_exclusive)
    query = sa.select(*selected).where(*conditions)
    if lifetime and source.column_for("customer_id"):
        life = _lifetime(runner, source, filters)
        customer = table.c[source.column_for("customer_id")]
        query = query.add_columns(life.c.first_seen, life.c.second_seen).select_from(
            table.outerjoin(life, customer == life.c.customer)
        )
    return Base(query.subquery("base"), source, raw, bucket_value)

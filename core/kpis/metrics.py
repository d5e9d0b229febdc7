"""The metric registry: what each KPI means, which column roles it needs, how it is computed.

A metric is a formula over *components*: SQL aggregates such as `sum(amount)` or
`count(DISTINCT order_id)`. One query computes every component the chosen metrics need
(shared components are computed once), and the formula combines them in Python, so
average order value is revenue / orders in every period, total and breakdown alike.

Built-ins register a factory that returns the metric for a source, or None when the
source lacks a needed role; extensions register the same way. Every numeric column also
gets sum and average metrics, every column a distinct count, and analysts' custom
metrics (core.kpis.custom) join the same catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.data.roles import NUMERIC, TEMPORAL, kind_of
from core.kpis.source import KpiSource

if TYPE_CHECKING:
    from core.kpis.base import Base

CURRENCY, COUNT, NUMBER, PERCENT = "currency", "count", "number", "percent"


@dataclass(frozen=True, slots=True)
class Component:
    """One SQL aggregate, named by `key`; `additive` when sums of parts give the whole."""

    key: str
    build: Callable[[Base], sa.ColumnElement]
    additive: bool = True
    lifetime: bool = False  # needs each customer's first and second order dates


@dataclass(frozen=True, slots=True)
class Metric:
    """A KPI: label, unit, the components it needs and the formula that combines them.

    `gap` metrics (ratios, minimums) show a period without rows as a gap, the others as
    zero. `up_is_bad` metrics (costs, returns) colour their deltas inversely.
    `accumulates` metrics grow through a period, so a target's pace is prorated.
    """

    key: str
    label: str
    unit: str
    components: tuple[Component, ...]
    formula: Callable[[Mapping[str, Any]], Any]
    help: str = ""
    columns: tuple[str, ...] = ()
    up_is_bad: bool = False
    gap: bool = False
    accumulates: bool = True
    group: str = "Built-in"

    @property
    def direct(self) -> bool:
        """True when the value is its one component (so SQL can rank by it)."""
        return len(self.components) == 1 and self.formula is _DIRECT.get(self.components[0].key)


MetricFactory = Callable[[KpiSource], Metric | None]
BUILTINS: dict[str, MetricFactory] = {}


def register(key: str) -> Callable[[MetricFactory], MetricFactory]:
    """Decorator adding a metric factory to the registry under `key`."""

    def add(factory: MetricFactory) -> MetricFactory:
        BUILTINS[key] = factory
        return factory

    return add


_DIRECT: dict[str, Callable[[Mapping[str, Any]], Any]] = {}


def value_of(key: str) -> Callable[[Mapping[str, Any]], Any]:
    """The formula 'the component `key` itself' (one shared function per key)."""
    if key not in _DIRECT:
        _DIRECT[key] = lambda c: c[key]
    return _DIRECT[key]


def ratio(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator, NaN where the denominator is zero (scalars and Series)."""
    if isinstance(denominator, pd.Series | np.ndarray):
        den = pd.Series(denominator, dtype="float64")
        return pd.Series(numerator, dtype="float64") / den.where(den != 0)
    if denominator is None or pd.isna(denominator) or denominator == 0:
        return float("nan")
    return float(numerator) / float(denominator)


def _has(source: KpiSource, *roles: str) -> bool:
    return all(source.column_for(r) for r in roles)


# --- shared components ------------------------------------------------------------------

REVENUE = Component("revenue", lambda b: sa.func.sum(b.role("amount")))
CUSTOMERS = Component(
    "customers", lambda b: sa.func.count(sa.distinct(b.role("customer_id"))), additive=False
)
UNITS = Component("units", lambda b: sa.func.sum(b.role("quantity")))
COGS = Component("cogs", lambda b: sa.func.sum(b.role("quantity") * b.role("cost")))
NEW_CUSTOMERS = Component(
    "new_customers",
    lambda b: sa.func.count(
        sa.distinct(sa.case((b.first_seen >= b.bucket, b.role("customer_id"))))
    ),
    additive=False,
    lifetime=True,
)
# A customer active in a period is a repeat buyer when one of its rows there falls on or
# after the customer's second order: by then it had ordered at least twice.
REPEAT_CUSTOMERS = Component(
    "repeat_customers",
    lambda b: sa.func.count(sa.distinct(sa.case((b.date >= b.second_seen, b.role("customer_id"))))),
    additive=False,
    lifetime=True,
)


def orders_component(source: KpiSource) -> Component:
    """Distinct order IDs, or rows when the source has no order ID (each row an order)."""
    if _has(source, "order_id"):
        return Component(
            "orders", lambda b: sa.func.count(sa.distinct(b.role("order_id"))), additive=False
        )
    return Component("orders", lambda b: sa.func.count())


# --- built-in metrics -------------------------------------------------------------------


@register("revenue")
def _revenue(source: KpiSource) -> Metric | None:
    if not _has(source, "amount"):
        return None
    return Metric(
        "revenue",
        "Revenue",
        CURRENCY,
        (REVENUE,),
        value_of("revenue"),
        help="Sum of the amount column",
    )


@register("orders")
def _orders(source: KpiSource) -> Metric | None:
    how = "Distinct order IDs" if _has(source, "order_id") else "Rows (no order ID column)"
    return Metric(
        "orders", "Orders", COUNT, (orders_component(source),), value_of("orders"), help=how
    )


@register("customers")
def _customers(source: KpiSource) -> Metric | None:
    if not _has(source, "customer_id"):
        return None
    return Metric(
        "customers",
        "Customers",
        COUNT,
        (CUSTOMERS,),
        value_of("customers"),
        help="Distinct customers with at least one row",
    )


@register("aov")
def _aov(source: KpiSource) -> Metric | None:
    if not _has(source, "amount"):
        return None
    return Metric(
        "aov",
        "Average order value",
        CURRENCY,
        (REVENUE, orders_component(source)),
        lambda c: ratio(c["revenue"], c["orders"]),
        help="Revenue / orders",
        gap=True,
        accumulates=False,
    )


@register("units")
def _units(source: KpiSource) -> Metric | None:
    if not _has(source, "quantity"):
        return None
    return Metric(
        "units", "Units", NUMBER, (UNITS,), value_of("units"), help="Sum of the quantity column"
    )


@register("revenue_per_customer")
def _revenue_per_customer(source: KpiSource) -> Metric | None:
    if not _has(source, "amount", "customer_id"):
        return None
    return Metric(
        "revenue_per_customer",
        "Revenue per customer",
        CURRENCY,
        (REVENUE, CUSTOMERS),
        lambda c: ratio(c["revenue"], c["customers"]),
        help="Revenue / customers",
        gap=True,
        accumulates=False,
    )


@register("new_customers")
def _new_customers(source: KpiSource) -> Metric | None:
    if not _has(source, "customer_id"):
        return None
    return Metric(
        "new_customers",
        "New customers",
        COUNT,
        (NEW_CUSTOMERS,),
        value_of("new_customers"),
        help="Customers whose first order (under the filters) is in the period",
    )


@register("returning_customers")
def _returning_customers(source: KpiSource) -> Metric | None:
    if not _has(source, "customer_id"):
        return None
    return Metric(
        "returning_customers",
        "Returning customers",
        COUNT,
        (CUSTOMERS, NEW_CUSTOMERS),
        lambda c: c["customers"] - c["new_customers"],
        help="Customers in the period who had ordered before it",
    )


@register("repeat_rate")
def _repeat_rate(source: KpiSource) -> Metric | None:
    if not _has(source, "customer_id"):
        return None
    return Metric(
        "repeat_rate",
        "Repeat-purchase rate",
        PERCENT,
        (REPEAT_CUSTOMERS, CUSTOMERS),
        lambda c: ratio(c["repeat_customers"], c["customers"]),
        help="Share of the period's customers with two or more orders by the period's end",
        gap=True,
        accumulates=False,
    )


@register("gross_margin")
def _gross_margin(source: KpiSource) -> Metric | None:
    if not _has(source, "amount", "quantity", "cost"):
        return None
    return Metric(
        "gross_margin",
        "Gross margin",
        CURRENCY,
        (REVENUE, COGS),
        lambda c: c["revenue"] - c["cogs"],
        help="Revenue − quantity × unit cost",
    )


@register("margin_pct")
def _margin_pct(source: KpiSource) -> Metric | None:
    if not _has(source, "amount", "quantity", "cost"):
        return None
    return Metric(
        "margin_pct",
        "Margin %",
        PERCENT,
        (REVENUE, COGS),
        lambda c: ratio(c["revenue"] - c["cogs"], c["revenue"]),
        help="Gross margin / revenue",
        gap=True,
        accumulates=False,
    )


@register("cogs")
def _cogs(source: KpiSource) -> Metric | None:
    if not _has(source, "quantity", "cost"):
        return None
    return Metric(
        "cogs",
        "Cost of goods",
        CURRENCY,
        (COGS,),
        value_of("cogs"),
        help="Quantity × unit cost; lower is better",
        up_is_bad=True,
    )


# --- any column -------------------------------------------------------------------------


def _column_metrics(source: KpiSource) -> list[Metric]:
    """sum:/avg: for numeric columns, distinct: for every non-date column."""
    found: list[Metric] = []
    for column in source.columns:
        kind, name = kind_of(column.type), column.name
        if kind == NUMERIC:
            s, n = f"sum:{name}", f"count:{name}"
            total = Component(s, lambda b, name=name: sa.func.sum(b.col(name)))
            count = Component(n, lambda b, name=name: sa.func.count(b.col(name)))
            found.append(
                Metric(
                    s,
                    f"Sum of {name}",
                    NUMBER,
                    (total,),
                    value_of(s),
                    columns=(name,),
                    group="Columns",
                )
            )
            found.append(
                Metric(
                    f"avg:{name}",
                    f"Average {name}",
                    NUMBER,
                    (total, count),
                    lambda c, s=s, n=n: ratio(c[s], c[n]),
                    columns=(name,),
                    gap=True,
                    accumulates=False,
                    group="Columns",
                )
            )
        if kind != TEMPORAL:
            d = f"distinct:{name}"
            distinct = Component(
                d, lambda b, name=name: sa.func.count(sa.distinct(b.col(name))), additive=False
            )
            found.append(
                Metric(
                    d,
                    f"Distinct {name}",
                    COUNT,
                    (distinct,),
                    value_of(d),
                    columns=(name,),
                    group="Columns",
                )
            )
    return found


def catalog(source: KpiSource, custom: list[Metric] | tuple[Metric, ...] = ()) -> dict[str, Metric]:
    """Every metric available on `source`: built-ins, column metrics, then custom ones."""
    found: dict[str, Metric] = {}
    for factory in BUILTINS.values():
        metric = factory(source)
        if metric is not None:
            found[metric.key] = metric
    for metric in (*_column_metrics(source), *custom):
        found.setdefault(metric.key, metric)
    return found


def components_of(metrics: list[Metric] | tuple[Metric, ...]) -> dict[str, Component]:
    """The distinct components the metrics need, by key."""
    found: dict[str, Component] = {}
    for metric in metrics:
        for component in metric.components:
            found.setdefault(component.key, component)
    return found


def evaluate(metric: Metric, values: Mapping[str, Any]) -> Any:
    """The metric's value (or Series) from component values."""
    return metric.formula(values)

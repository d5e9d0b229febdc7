"""Cohort retention: customers grouped by the month of their first order, and the share
of each cohort active (with at least one row) in each following month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa

from core.errors import UserInputError
from core.kpis.base import Filters, build_base, period_expression
from core.kpis.grains import add_months, truncate
from core.kpis.periods import Window
from core.kpis.source import KpiSource, Runner


@dataclass(frozen=True, slots=True)
class Cohorts:
    """Long table (cohort, offset, active, size, share) and its cohort × month matrix."""

    table: pd.DataFrame
    matrix: pd.DataFrame  # index: cohort label (YYYY-MM); columns: months since first order


def window_for(window: Window, first_day: date) -> Window:
    """The cohorts shown with a dashboard window: the 12 months to its end, or the window."""
    if window.days >= 365:
        return window
    start = add_months(truncate(window.end, "month"), -11)
    return Window(max(first_day, start), window.end)


def _months_between(later: sa.ColumnElement, earlier: sa.ColumnElement) -> sa.ColumnElement:
    year = sa.extract("year", later) - sa.extract("year", earlier)
    return sa.cast(
        year * 12 + sa.extract("month", later) - sa.extract("month", earlier), sa.Integer
    )


def cohorts(runner: Runner, source: KpiSource, window: Window, filters: Filters = ()) -> Cohorts:
    """Cohorts of customers whose first order (under the filters) falls in `window`.

    A customer's first month counts over all history, so a customer who first ordered
    before the window is in no cohort; activity is counted up to the window's end.
    """
    if not source.column_for("customer_id"):
        raise UserInputError(f"Cohorts need a column with the Customer ID role in {source.name}.")
    first_month = truncate(window.start, "month")
    # Each customer's first order over all history, kept only when it falls in the window;
    # activity is then read from the window's rows alone (a third of a 3-year table).
    history = build_base(runner, source, filters=filters, end_exclusive=window.end_exclusive)
    customer = history.role("customer_id")
    firsts = (
        sa.select(
            customer.label("customer"),
            period_expression(sa.func.min(history.date), "month").label("cohort"),
        )
        .where(customer.is_not(None))
        .group_by(customer)
        .having(sa.func.min(history.date) >= first_month)
        .subquery("firsts")
    )
    recent = build_base(
        runner, source, filters=filters, start=first_month, end_exclusive=window.end_exclusive
    )
    activity = (
        sa.select(
            recent.role("customer_id").label("customer"),
            period_expression(recent.date, "month").label("month"),
        )
        .where(recent.role("customer_id").is_not(None))
        .distinct()
        .subquery("activity")
    )
    joined = (
        sa.select(
            firsts.c.cohort,
            _months_between(activity.c.month, firsts.c.cohort).label("offset"),
            activity.c.customer,
        )
        .select_from(activity.join(firsts, activity.c.customer == firsts.c.customer))
        .subquery("joined")
    )
    statement = (
        sa.select(joined.c.cohort, joined.c.offset, sa.func.count().label("active"))
        .group_by(joined.c.cohort, joined.c.offset)
        .order_by(joined.c.cohort, joined.c.offset)
    )
    frame = runner.frame(statement)
    if frame.empty:
        empty = pd.DataFrame(columns=["cohort", "offset", "active", "size", "share"])
        return Cohorts(empty, pd.DataFrame())
    frame["cohort"] = pd.to_datetime(frame["cohort"]).dt.date
    frame["offset"] = frame["offset"].astype("int64")
    frame["active"] = frame["active"].astype("int64")
    sizes = frame[frame["offset"] == 0].set_index("cohort")["active"]
    frame["size"] = frame["cohort"].map(sizes).astype("int64")
    frame["share"] = frame["active"] / frame["size"]
    matrix = frame.pivot(index="cohort", columns="offset", values="share")
    last = truncate(window.end, "month")
    span = (last.year - min(sizes.index).year) * 12 + last.month - min(sizes.index).month
    matrix = matrix.reindex(columns=range(span + 1))
    for cohort in matrix.index:  # observed months without activity are 0%, later ones blank
        observed = (last.year - cohort.year) * 12 + last.month - cohort.month
        matrix.loc[cohort, :observed] = matrix.loc[cohort, :observed].fillna(0.0)
    matrix.index = [f"{c:%Y-%m}" for c in matrix.index]
    matrix.index.name = "cohort"
    return Cohorts(frame.reset_index(drop=True), matrix)

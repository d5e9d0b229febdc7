"""Targets per metric and period, their progress and state.

States, for a target of value T over a period:
- before the period starts: "not started";
- once it is over: "met" when the actual reached T (stayed at or under T for an
  "up is bad" metric), else "missed";
- while it runs: the projection is the actual so far scaled to the whole period for
  metrics that accumulate (revenue, orders), the current value for the others (ratios);
  "on track" when the projection reaches T, "at risk" when it does not. An accumulating
  "up is bad" metric already over T is "missed"; an accumulating metric already at T
  is "met".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.kpis.grains import check_grain, label, step, truncate
from core.kpis.metrics import Metric
from core.kpis.models import KpiTargetRow
from core.kpis.periods import Window
from core.store import Store
from core.store.models import utcnow

STATES = ("not started", "on track", "at risk", "met", "missed")


@dataclass(frozen=True, slots=True)
class Target:
    """A target value of a metric over one period of a grain."""

    id: int
    dataset: str
    metric: str
    grain: str
    period_start: date
    value: float

    @property
    def period(self) -> Window:
        return Window(self.period_start, step(self.period_start, self.grain) - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """Where a target stands as of a date."""

    target: Target
    actual: float
    elapsed: float  # share of the period's days up to the as-of date
    projection: float
    progress: float  # actual / target
    state: str


def _row(row: KpiTargetRow) -> Target:
    return Target(row.id, row.dataset, row.metric, row.grain, row.period_start, row.value)


def set_target(
    store: Store, user: User, dataset: str, metric: str, grain: str, period: date, value: float
) -> Target:
    """Create or replace the target of `metric` for the period of `grain` holding `period`."""
    require(user, Role.ANALYST, "Setting targets")
    check_grain(grain)
    if not math.isfinite(value):
        raise UserInputError("A target must be a finite number.")
    start = truncate(period, grain)
    with store.session() as s:
        row = s.scalar(
            select(KpiTargetRow).where(
                KpiTargetRow.dataset == dataset,
                KpiTargetRow.metric == metric,
                KpiTargetRow.grain == grain,
                KpiTargetRow.period_start == start,
            )
        )
        if row is None:
            row = KpiTargetRow(
                dataset=dataset,
                metric=metric,
                grain=grain,
                period_start=start,
                value=value,
                created_by=user.email,
            )
            s.add(row)
        else:
            row.value, row.created_by, row.updated_at = value, user.email, utcnow()
        audit.record(
            s,
            user,
            "kpi.target.set",
            dataset,
            metric=metric,
            grain=grain,
            period=start.isoformat(),
            value=value,
        )
        s.flush()
        return _row(row)


def list_targets(store: Store, user: User, dataset: str) -> list[Target]:
    """Targets of a dataset, newest period first."""
    require(user, Role.VIEWER, "Reading targets")
    with store.session() as s:
        rows = s.scalars(
            select(KpiTargetRow)
            .where(KpiTargetRow.dataset == dataset)
            .order_by(KpiTargetRow.period_start.desc(), KpiTargetRow.metric)
        )
        return [_row(r) for r in rows]


def delete_target(store: Store, user: User, target_id: int) -> None:
    """Remove a target."""
    require(user, Role.ANALYST, "Deleting targets")
    with store.session() as s:
        row = s.get(KpiTargetRow, target_id)
        if row is None:
            raise NotFound(f"No target with id {target_id}.")
        audit.record(
            s,
            user,
            "kpi.target.delete",
            row.dataset,
            metric=row.metric,
            grain=row.grain,
            period=row.period_start.isoformat(),
        )
        s.delete(row)


def evaluate(target: Target, actual: float, metric: Metric, asof: date) -> TargetStatus:
    """The state of `target` given the metric's `actual` value in its period up to `asof`."""
    period = target.period
    elapsed_days = min(max((asof - period.start).days + 1, 0), period.days)
    elapsed = elapsed_days / period.days
    actual = 0.0 if actual is None or (isinstance(actual, float) and math.isnan(actual)) else actual
    projection = actual / elapsed if metric.accumulates and elapsed > 0 else actual
    progress = actual / target.value if target.value else math.nan
    bad = metric.up_is_bad

    def good(value: float) -> bool:
        return value <= target.value if bad else value >= target.value

    if elapsed_days == 0:
        state = "not started"
    elif elapsed_days == period.days:
        state = "met" if good(actual) else "missed"
    elif metric.accumulates and bad and actual > target.value:
        state = "missed"
    elif metric.accumulates and not bad and actual >= target.value:
        state = "met"
    else:
        state = "on track" if good(projection) else "at risk"
    return TargetStatus(target, actual, elapsed, projection, progress, state)


def status_frame(statuses: list[TargetStatus], labels: dict[str, str]) -> pd.DataFrame:
    """Targets as a table: metric, period, target, actual, progress, projection, state."""
    return pd.DataFrame(
        {
            "metric": [labels.get(s.target.metric, s.target.metric) for s in statuses],
            "period": [label(s.target.period_start, s.target.grain) for s in statuses],
            "target": [s.target.value for s in statuses],
            "actual": [s.actual for s in statuses],
            "progress": [s.progress for s in statuses],
            "projection": [s.projection for s in statuses],
            "state": [s.state for s in statuses],
        }
    )

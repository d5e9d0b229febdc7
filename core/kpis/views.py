"""The KPI page's state: shareable URL query parameters and saved views.

Both go through one validator with an allow-list: known keys only (grain, preset, start,
end, metric, by, top, focus, and `f.<column>` for filters on dimension columns), each
value checked against the choices the dataset offers. Nothing is unpickled or evaluated;
unknown keys are ignored and bad values are reported and replaced by defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.kpis.base import Filters, normalise_filters
from core.kpis.grains import GRAINS
from core.kpis.periods import CUSTOM, PRESET_LABELS
from core.store import Store
from core.store.models import SavedViewRow

PAGE = "kpis"
FILTER_PREFIX = "f."
KEYS = ("grain", "preset", "start", "end", "metric", "by", "top", "focus")
DEFAULT_METRICS = ("revenue", "orders", "customers", "aov")
MAX_METRICS = 8
MAX_FILTER_VALUES = 50


@dataclass(frozen=True, slots=True)
class ViewState:
    """What the KPI page shows: grain, dates, metrics, filters, breakdown."""

    grain: str = "week"
    preset: str = "last_90"
    start: date | None = None
    end: date | None = None
    metrics: tuple[str, ...] = DEFAULT_METRICS
    filters: Filters = ()
    breakdown: str | None = None
    top: int = 10
    focus: str | None = None  # the metric of the main chart and breakdown


def to_params(state: ViewState) -> dict[str, str | list[str]]:
    """Query parameters for a shareable URL (only values that differ from the default)."""
    default = ViewState()
    params: dict[str, str | list[str]] = {}
    if state.grain != default.grain:
        params["grain"] = state.grain
    if state.preset != default.preset:
        params["preset"] = state.preset
    if state.preset == CUSTOM and state.start and state.end:
        params["start"], params["end"] = state.start.isoformat(), state.end.isoformat()
    if state.metrics != default.metrics:
        params["metric"] = list(state.metrics)
    if state.breakdown:
        params["by"] = state.breakdown
    if state.top != default.top:
        params["top"] = str(state.top)
    if state.focus:
        params["focus"] = state.focus
    for column, values in state.filters:
        params[FILTER_PREFIX + column] = list(values)
    return params


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, Iterable) else [str(value)]


def from_params(
    params: Mapping[str, Any], *, metrics: Iterable[str], dimensions: Iterable[str]
) -> tuple[ViewState, list[str]]:
    """The state a URL (or saved view) describes, and what was wrong with it (if anything)."""
    metrics, dimensions = list(metrics), set(dimensions)
    problems: list[str] = []
    state = ViewState(
        metrics=tuple(m for m in DEFAULT_METRICS if m in metrics) or tuple(metrics[:4])
    )

    def one(key: str) -> str | None:
        values = _as_list(params[key]) if key in params else []
        return values[-1].strip() if values else None

    if (grain := one("grain")) is not None:
        if grain in GRAINS:
            state = replace(state, grain=grain)
        else:
            problems.append(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    if (preset := one("preset")) is not None:
        if preset in PRESET_LABELS:
            state = replace(state, preset=preset)
        else:
            problems.append(f"date preset {preset!r} is unknown")
    if state.preset == CUSTOM:
        try:
            start, end = (
                date.fromisoformat(one("start") or ""),
                date.fromisoformat(one("end") or ""),
            )
            if end < start:
                raise ValueError
            state = replace(state, start=start, end=end)
        except ValueError:
            problems.append("a custom range needs start and end dates (YYYY-MM-DD, start first)")
            state = replace(state, preset=ViewState().preset)
    if "metric" in params:
        wanted = list(dict.fromkeys(v.strip() for v in _as_list(params["metric"])))
        unknown = [m for m in wanted if m not in metrics]
        if unknown:
            problems.append(f"unknown metric(s) {', '.join(map(repr, unknown))}")
        chosen = tuple(m for m in wanted if m in metrics)[:MAX_METRICS]
        if chosen:
            state = replace(state, metrics=chosen)
    if (focus := one("focus")) is not None:
        if focus in metrics:
            state = replace(state, focus=focus)
        else:
            problems.append(f"unknown metric {focus!r}")
    if (by := one("by")) is not None:
        if by in dimensions:
            state = replace(state, breakdown=by)
        else:
            problems.append(f"{by!r} is not a column to break down by")
    if (top := one("top")) is not None:
        if top.isdigit() and 1 <= int(top) <= 100:
            state = replace(state, top=int(top))
        else:
            problems.append("top must be a whole number from 1 to 100")
    filters: dict[str, list[str]] = {}
    for key, value in params.items():
        if not key.startswith(FILTER_PREFIX):
            continue  # other keys (the dataset picker's, campaign tags) are not ours
        column = key[len(FILTER_PREFIX) :]
        if column not in dimensions:
            problems.append(f"{column!r} is not a column to filter by")
            continue
        filters[column] = [v for v in _as_list(value) if v][:MAX_FILTER_VALUES]
    state = replace(state, filters=normalise_filters(filters))
    return state, problems


def to_json(state: ViewState) -> dict[str, Any]:
    """A saved view's stored form: the same keys as the URL."""
    return to_params(state) | {"grain": state.grain, "preset": state.preset}


@dataclass(frozen=True, slots=True)
class SavedView:
    """A named view of one dataset, owned by one user."""

    id: int
    name: str
    dataset: str
    params: dict[str, Any]


def save_view(
    store: Store,
    user: User,
    dataset: str,
    name: str,
    state: ViewState,
    dataset_id: int | None = None,
) -> SavedView:
    """Store the view under `name` for its owner (replacing one of the same name)."""
    require(user, Role.VIEWER, "Saving views")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise UserInputError("Give the view a name of 1-100 characters.")
    stored = {"dataset": dataset, "params": to_json(state)}
    try:
        with store.session() as s:
            row = s.scalar(
                select(SavedViewRow).where(
                    SavedViewRow.owner == user.email,
                    SavedViewRow.page == PAGE,
                    SavedViewRow.name == name,
                )
            )
            if row is None:
                row = SavedViewRow(owner=user.email, page=PAGE, name=name)
                s.add(row)
            row.dataset_id, row.state = dataset_id, stored
            audit.record(s, user, "kpi.view.save", dataset, name=name)
            s.flush()
            return SavedView(row.id, name, dataset, stored["params"])
    except IntegrityError:
        raise UserInputError(
            f"A view called {name!r} was saved at the same moment: try again."
        ) from None


def list_views(store: Store, user: User, dataset: str | None = None) -> list[SavedView]:
    """The user's saved KPI views (of one dataset, if given), by name."""
    require(user, Role.VIEWER, "Reading views")
    with store.session() as s:
        rows = s.scalars(
            select(SavedViewRow)
            .where(SavedViewRow.owner == user.email, SavedViewRow.page == PAGE)
            .order_by(SavedViewRow.name)
        )
        views = [
            SavedView(r.id, r.name, r.state.get("dataset", ""), dict(r.state.get("params", {})))
            for r in rows
        ]
    return [v for v in views if dataset is None or v.dataset == dataset]


def delete_view(store: Store, user: User, view_id: int) -> None:
    """Remove one of the user's saved views."""
    require(user, Role.VIEWER, "Deleting views")
    with store.session() as s:
        row = s.get(SavedViewRow, view_id)
        if row is None or row.owner != user.email or row.page != PAGE:
            raise NotFound("That saved view does not exist (or is not yours).")
        audit.record(s, user, "kpi.view.delete", row.state.get("dataset", ""), name=row.name)
        s.delete(row)

"""The KPI page's view state in session_state: widget keys, the shareable URL, drill trail.

Widget keys cannot be changed once their widget ran in a script run, so a new state
(from the URL, a saved view, or a drill-down) is staged under PENDING and applied at the
top of the next run, before the widgets are created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import streamlit as st

from core.kpis import views
from core.kpis.base import Filters, normalise_filters
from core.kpis.views import ViewState

GRAIN, PRESET, RANGE, METRICS = "kpi_grain", "kpi_preset", "kpi_range", "kpi_metrics"
FILTER_COLUMNS, BY, TOP, FOCUS = "kpi_filter_cols", "kpi_by", "kpi_top", "kpi_focus"
PENDING, TRAIL, URL_DONE, SOURCE = "kpi_pending", "kpi_trail", "kpi_url_done", "kpi_source"
NO_BREAKDOWN = "(none)"


def filter_key(column: str) -> str:
    return f"kpi_f_{column}"


def stage(state: ViewState, *, trail: list | None = None) -> None:
    """Show `state` from the next run on (and optionally replace the drill trail)."""
    st.session_state[PENDING] = views.to_json(state)
    if trail is not None:
        st.session_state[TRAIL] = trail


def _apply(state: ViewState, dimensions: Iterable[str]) -> None:
    ss = st.session_state
    ss[GRAIN], ss[PRESET], ss[METRICS] = state.grain, state.preset, list(state.metrics)
    if state.start and state.end:
        ss[RANGE] = (state.start, state.end)
    ss[FILTER_COLUMNS] = [c for c, _ in state.filters]
    chosen = dict(state.filters)
    for column in dimensions:
        if column in chosen:
            ss[filter_key(column)] = list(chosen[column])
        else:
            ss.pop(filter_key(column), None)
    ss[BY] = state.breakdown or NO_BREAKDOWN
    ss[TOP] = state.top
    if state.focus:
        ss[FOCUS] = state.focus


def prepare(source_name: str, metrics: list[str], dimensions: list[str]) -> list[str]:
    """Before the widgets: apply a staged state, or the URL's on a session's first visit.

    Returns problems found in the URL (unknown keys are ignored, bad values reported).
    """
    ss, problems = st.session_state, []
    if ss.get(SOURCE) != source_name:  # another dataset: its columns and metrics differ
        for key in [k for k in ss if str(k).startswith("kpi_f_")]:
            del ss[key]
        ss[FILTER_COLUMNS], ss[TRAIL] = [], []
        ss.pop(BY, None)
        if ss.get(SOURCE) is not None:
            ss.pop(METRICS, None)
            ss.pop(FOCUS, None)
        ss[SOURCE] = source_name
    if PENDING in ss:
        state, problems = views.from_params(ss.pop(PENDING), metrics=metrics, dimensions=dimensions)
        _apply(state, dimensions)
    elif not ss.get(URL_DONE):
        ss[URL_DONE] = True
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        if any(k in views.KEYS or k.startswith(views.FILTER_PREFIX) for k in params):
            state, problems = views.from_params(params, metrics=metrics, dimensions=dimensions)
            _apply(state, dimensions)
    default = ViewState()
    ss.setdefault(GRAIN, default.grain)
    ss.setdefault(PRESET, default.preset)
    ss.setdefault(TOP, default.top)
    for key in (BY, TOP):  # their widgets live in a tab that may be closed: keep the values
        if key in ss:
            ss[key] = ss[key]
    if [m for m in ss.get(METRICS, []) if m not in metrics] or not ss.get(METRICS):
        default = [m for m in views.DEFAULT_METRICS if m in metrics] or metrics[:4]
        ss[METRICS] = default
    return problems


def current(
    grain: str,
    preset: str,
    window: tuple[date, date] | None,
    metrics: list[str],
    filters: Filters,
    breakdown: str | None,
    top: int,
    focus: str | None,
) -> ViewState:
    """The state the widgets show now."""
    start, end = window if window else (None, None)
    return ViewState(
        grain=grain,
        preset=preset,
        start=start,
        end=end,
        metrics=tuple(metrics),
        filters=normalise_filters(filters),
        breakdown=breakdown,
        top=top,
        focus=focus,
    )


def sync_url(state: ViewState) -> None:
    """Keep the address bar's query parameters equal to the state (a shareable URL)."""
    wanted = views.to_params(state)
    ours = [k for k in st.query_params if k in views.KEYS or k.startswith(views.FILTER_PREFIX)]
    present = {k: st.query_params.get_all(k) for k in ours}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if present == normalised:
        return
    for key in ours:
        if key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        st.query_params[key] = value


def drill(state: ViewState, column: str, value: str, next_breakdown: str | None) -> None:
    """Filter the page to `column = value` and remember the step for the trail."""
    trail = list(st.session_state.get(TRAIL, []))
    trail.append({"column": column, "value": value, "before": views.to_json(state)})
    filters = dict(state.filters) | {column: (value,)}
    stage(replace(state, filters=normalise_filters(filters), breakdown=next_breakdown), trail=trail)


def back_to(step: int) -> None:
    """Return to the state before drill step `step` (0 = before the first drill)."""
    trail = list(st.session_state.get(TRAIL, []))
    if step < len(trail):
        st.session_state[PENDING] = trail[step]["before"]
        st.session_state[TRAIL] = trail[:step]

"""KPIs: how the business is doing, compared with what, and where it comes from."""

from __future__ import annotations

import contextlib
import time
from datetime import date

import pandas as pd
import streamlit as st

from components import (
    dataset_picker,
    errors,
    kpi_charts,
    kpi_downloads,
    kpi_panels,
    kpi_report,
    kpi_sources,
    kpi_state,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.errors import BeaconError, UserInputError
from core.kpis import (
    cohorts,
    custom,
    dashboard,
    grains,
    metrics,
    periods,
    queries,
    views,
)
from core.kpis.base import dimension_columns

user = session.require_role(Role.VIEWER, "Viewing KPIs")
svc = services()

st.title("KPIs")
st.caption("How the business is doing, compared with what, and where it comes from.")
report_slot = st.container(horizontal=True, horizontal_alignment="right")

picked = kpi_sources.show(user)
if picked is None:
    st.stop()
source = picked.source
if not dataset_picker.require_roles(source, ["date", "amount"], "The KPI page"):
    st.stop()
runner = kpi_sources.runner(user, picked)
# Dataset versions are immutable files: their path is the cache key. Warehouse tables can
# change under us, so their cached results expire every ten minutes.
FRESH = "" if picked.table is None else str(int(time.time() // 600))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_range(key: str, fresh: str, _runner, _source) -> tuple[date, date] | None:
    return queries.date_range(_runner, _source)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_values(key, fresh, column: str, filters: tuple, _runner, _source) -> pd.DataFrame:
    return queries.dimension_values(_runner, _source, column, filters)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_totals(key, fresh, keys, windows: tuple, filters, _runner, _source, _metrics):
    return queries.totals(_runner, _source, _metrics, dict(windows), filters)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_series(key, fresh, keys, grain, window, filters, _runner, _source, _metrics):
    return dashboard.series_with_bands(_runner, _source, _metrics, grain, window, filters)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_breakdown(key, fresh, metric_key, dim, window, filters, top, _runner, _source, _metric):
    return queries.breakdown(_runner, _source, _metric, dim, window, filters, top)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_cohorts(key, fresh, window, filters, _runner, _source) -> cohorts.Cohorts:
    return cohorts.cohorts(_runner, _source, window, filters)


span = cached_range(source.key, FRESH, runner, source)
if span is None:
    st.info(f"{source.name} has no dated rows yet.")
    st.stop()
first_day, asof = span
customs = custom.metrics_for(svc.store, user, source)
available = metrics.catalog(source, customs)
dims = dimension_columns(source)
problems = kpi_state.prepare(source.name, list(available), dims)
if problems:
    st.warning("Some link settings were ignored: " + "; ".join(problems) + ".")

with st.sidebar:
    grain = st.selectbox(
        "Grain", grains.GRAINS, format_func=grains.GRAIN_LABELS.get, key=kpi_state.GRAIN
    )
    preset = st.selectbox(
        "Dates",
        list(periods.PRESET_LABELS),
        key=kpi_state.PRESET,
        format_func=periods.PRESET_LABELS.get,
    )
    custom_range = None
    if preset == periods.CUSTOM:
        if kpi_state.RANGE not in st.session_state:
            st.session_state[kpi_state.RANGE] = (max(first_day, asof.replace(day=1)), asof)
        picked_range = st.date_input(
            "Custom range",
            min_value=first_day,
            max_value=asof,
            key=kpi_state.RANGE,
        )
        if len(picked_range) == 2:
            custom_range = tuple(picked_range)
    chosen = st.multiselect(
        "Metrics",
        list(available),
        key=kpi_state.METRICS,
        max_selections=views.MAX_METRICS,
        format_func=lambda k: available[k].label,
    )
    st.caption(f"Latest data: {asof:%-d %b %Y}. Presets count back from it.")
    filter_columns = st.multiselect("Filter by", dims, key=kpi_state.FILTER_COLUMNS)
    filters: dict[str, list[str]] = {}
    for column in filter_columns:
        key = kpi_state.filter_key(column)
        others = tuple((c, tuple(v)) for c, v in filters.items() if v)
        counts = cached_values(source.key, FRESH, column, others, runner, source)
        options = counts["value"].tolist()
        options += [v for v in st.session_state.get(key, []) if v not in options]
        rows = dict(zip(counts["value"], counts["rows"], strict=True))
        filters[column] = st.multiselect(
            column,
            options,
            key=key,
            placeholder="All values",
            format_func=lambda v, rows=rows: f"{v} ({rows[v]:,})" if v in rows else f"{v} (0)",
        )
active = tuple(sorted((c, tuple(sorted(v))) for c, v in filters.items() if v))

if not chosen:
    st.info("Choose at least one metric in the sidebar.")
    st.stop()
try:
    window = periods.resolve(preset, asof, *(custom_range or (None, None)))
except UserInputError as exc:
    errors.show(exc)
    st.stop()
chosen_metrics = [available[k] for k in chosen]
windows = dashboard.card_windows(preset, window)

with errors.shown():
    with st.spinner("Computing KPIs…"):
        frame = cached_totals(
            source.key,
            FRESH,
            tuple(chosen),
            tuple(windows.items()),
            active,
            runner,
            source,
            chosen_metrics,
        )
        board = dashboard.cards_from(
            frame, chosen_metrics, window, periods.comparisons(preset, window)
        )
        trend = cached_series(
            source.key, FRESH, tuple(chosen), grain, window, active, runner, source, chosen_metrics
        )

    previous, last_year = board.comparisons
    st.caption(
        f"{window.describe()} · {board.rows:,} rows · deltas {previous.describe()}; "
        f"{last_year.label} ({last_year.window.describe()}) in each card's help."
        + (" Filters: " + "; ".join(f"{c} = {', '.join(v)}" for c, v in active) if active else "")
    )
    trail = st.session_state.get(kpi_state.TRAIL, [])
    if trail:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.caption("Drill-down:")
            if st.button("All data", key="kpi_trail_0", icon=":material/arrow_back:"):
                kpi_state.back_to(0)
                st.rerun()
            for i, step in enumerate(trail, start=1):
                label = f"{step['column']}: {step['value']}"
                if st.button(label, key=f"kpi_trail_{i}", disabled=i == len(trail)):
                    kpi_state.back_to(i)
                    st.rerun()

    # Sparklines of whole periods only: a partial last week would look like a collapse.
    in_window = trend[(trend["period_end"] >= window.start) & ~trend["partial"]]
    with st.container(horizontal=True):
        for card in board.cards:
            m, delta_prev = card.metric, card.deltas[0]
            change = dashboard.format_change(m, delta_prev)
            st.metric(
                m.label,
                dashboard.format_value(m, card.value),
                delta=0 if delta_prev.change == 0 else (change or None),
                delta_color="inverse" if m.up_is_bad else "normal",
                delta_description=f"vs {previous.label}",
                chart_data=in_window[m.key].fillna(0).tolist(),
                chart_type="area",
                border=True,
                help=dashboard.describe_card(card),
            )

    focus = st.selectbox(
        "Chart", chosen, key=kpi_state.FOCUS, format_func=lambda k: available[k].label
    )
    focus_metric = available[focus]
    left, right = st.columns([3, 1])
    figure = kpi_charts.series_chart(trend, focus_metric, grain)
    with left:
        st.plotly_chart(figure, key="kpi_series")
    flagged = trend[trend[f"{focus}__anomaly"]]
    with right:
        st.metric(
            "Anomalies in view",
            len(flagged),
            border=True,
            help="Periods outside the expected band (median ± 3 robust SDs)",
        )
        if trend["partial"].any():
            st.caption(
                f"Hollow points are partial {grain}s (the window or the data ends mid-{grain})."
            )
        st.caption(
            f"The chart shows whole {grain}s from {trend['label'].iloc[0]}; "
            "the cards cover the window exactly."
        )
        table = dashboard.series_table(trend, focus_metric)
        kpi_downloads.buttons(
            table,
            f"{source.name}_{focus.replace(':', '_')}_{grain}",
            key="kpi_series_dl",
            figure=figure,
        )
    with st.expander("Table view"):
        st.dataframe(table, hide_index=True, alt=f"{focus_metric.label} per {grain}")

tabs = ["Breakdown", "Cohorts", "Anomalies", "Targets", "Metrics", "Saved views"]
if user.can(Role.ADMIN):
    tabs.append("Warehouse")
# Only the open tab runs (cohorts over a year of history are the costliest query).
tab = dict(zip(tabs, st.tabs(tabs, key="kpi_tab", on_change="rerun"), strict=True))
report_parts: dict = {"figures": [figure], "tables": {}}

with tab["Breakdown"], errors.shown():
    if tab["Breakdown"].open:
        by_options = [kpi_state.NO_BREAKDOWN, *[d for d in dims if d not in dict(active)]]
        if st.session_state.get(kpi_state.BY) not in by_options:
            default_by = next(
                (
                    source.column_for(r)
                    for r in ("category", "region", "channel")
                    if source.column_for(r) in by_options
                ),
                None,
            )
            st.session_state[kpi_state.BY] = default_by or kpi_state.NO_BREAKDOWN
        with st.container(horizontal=True, vertical_alignment="bottom"):
            by = st.selectbox("Break down by", by_options, key=kpi_state.BY)
            top = st.number_input("Top", min_value=1, max_value=100, key=kpi_state.TOP)
        if by != kpi_state.NO_BREAKDOWN:
            split = cached_breakdown(
                source.key, FRESH, focus, by, window, active, int(top), runner, source, focus_metric
            )
            bar = kpi_charts.breakdown_chart(split, focus_metric)
            report_parts["figures"].append(bar)
            report_parts["tables"][f"{focus_metric.label} by {by}"] = split.table
            drill_key = f"kpi_breakdown_{len(trail)}"
            event = st.plotly_chart(bar, key=drill_key, on_select="rerun", selection_mode="points")
            drillable = [
                v
                for v, other in zip(split.table["value"], split.table["is_other"], strict=True)
                if not other
            ]
            selected = [p.get("y") for p in (event.selection.points if event else [])]
            target_value = next((v for v in selected if v in drillable), None)
            with st.container(horizontal=True, vertical_alignment="bottom"):
                picked_value = st.selectbox(
                    "Drill into",
                    ["", *drillable],
                    key=f"kpi_drill_{len(trail)}",
                    format_func=lambda v: v or "Choose a value…",
                )
                if st.button("Drill down", key="kpi_drill_go", disabled=not picked_value):
                    target_value = picked_value
            if target_value:
                rest = [d for d in dims if d != by and d not in dict(active)]
                state = kpi_state.current(
                    grain, preset, custom_range, chosen, active, by, int(top), focus
                )
                kpi_state.drill(state, by, target_value, rest[0] if rest else None)
                st.rerun()
            st.caption(
                f"{split.values_count:,} distinct values; shares are of the total "
                f"{dashboard.format_value(focus_metric, split.total)}."
            )
            with st.expander("Table view"):
                st.dataframe(split.table, hide_index=True, alt=f"{focus_metric.label} by {by}")
            kpi_downloads.buttons(
                split.table, f"{source.name}_{by}", key="kpi_split_dl", figure=bar
            )

with tab["Cohorts"], errors.shown():
    if tab["Cohorts"].open:
        if not source.column_for("customer_id"):
            dataset_picker.require_roles(source, ["customer_id"], "Cohort retention")
        else:
            cohort_window = cohorts.window_for(window, first_day)
            st.caption(
                f"Customers by month of first order, {cohort_window.describe()}; "
                "each cell is the share active (with an order) that many months later."
            )
            result = cached_cohorts(source.key, FRESH, cohort_window, active, runner, source)
            if result.matrix.empty:
                st.info("No customer placed a first order in this window.")
            else:
                heat = kpi_charts.cohort_heatmap(result)
                report_parts["figures"].append(heat)
                st.plotly_chart(heat, key="kpi_cohorts")
                shown = (result.matrix * 100).round(1).reset_index()
                shown.columns = [str(c) for c in shown.columns]
                report_parts["tables"]["Cohort retention (% active)"] = shown
                with st.expander("Table view"):
                    st.dataframe(shown, hide_index=True, alt="Cohort retention, % active")
                kpi_downloads.buttons(
                    result.table, f"{source.name}_cohorts", key="kpi_cohort_dl", figure=heat
                )

with tab["Anomalies"]:
    found = dashboard.anomaly_table(trend, chosen_metrics)
    st.caption(
        "Every chosen metric per " + grain + ", flagged when outside median ± 3 robust "
        "standard deviations of its neighbours (same weekday for days); partial periods "
        "are never flagged."
    )
    if not found.empty:
        report_parts["tables"]["Anomalies"] = found
        st.dataframe(found, hide_index=True, alt="Anomalies")
        kpi_downloads.buttons(found, f"{source.name}_anomalies", key="kpi_anomaly_dl")
    else:
        st.success("No anomalies in this window.", icon=":material/check_circle:")

with tab["Targets"], errors.shown():
    if tab["Targets"].open:

        def actual(metric_key: str, to_date: periods.Window) -> float:
            frame = cached_totals(
                source.key,
                FRESH,
                (metric_key,),
                (("all", to_date),),
                (),
                runner,
                source,
                [available[metric_key]],
            )
            return float(frame[metric_key].iloc[0])

        shown_targets = kpi_panels.show_targets(user, source, available, chosen, asof, actual)
        if shown_targets is not None:
            report_parts["tables"]["Targets"] = shown_targets

with tab["Metrics"], errors.shown():
    if tab["Metrics"].open:
        kpi_panels.show_metrics(user, source, available)

state = kpi_state.current(
    grain,
    preset,
    custom_range,
    chosen,
    active,
    None
    if st.session_state.get(kpi_state.BY) in (None, kpi_state.NO_BREAKDOWN)
    else st.session_state[kpi_state.BY],
    int(st.session_state.get(kpi_state.TOP, 10)),
    focus,
)
kpi_state.sync_url(state)

with tab["Saved views"], errors.shown():
    kpi_panels.show_saved_views(user, source, state, picked.dataset.id if picked.dataset else None)

if "Warehouse" in tab:
    with tab["Warehouse"], errors.shown():
        if tab["Warehouse"].open:
            kpi_panels.show_warehouse(user)


def report_bytes() -> bytes:
    """The whole dashboard as one HTML file; cohorts are computed if their tab was not open."""
    figures, tables = list(report_parts["figures"]), dict(report_parts["tables"])
    if source.column_for("customer_id") and not any("Cohort" in t for t in tables):
        with contextlib.suppress(BeaconError):
            found = cached_cohorts(
                source.key,
                FRESH,
                cohorts.window_for(window, first_day),
                active,
                kpi_sources.runner(user, picked),
                source,
            )
            if not found.matrix.empty:
                figures.append(kpi_charts.cohort_heatmap(found))
                tables["Cohort retention (% active)"] = (found.matrix * 100).round(1).reset_index()
    notes = [f"Filters: {'; '.join(c + ' = ' + ', '.join(v) for c, v in active)}"] if active else []
    subtitle = f"{window.describe()} · per {grain}"
    return kpi_report.build(f"KPIs: {source.name}", subtitle, board, figures, tables, notes)


report_slot.download_button(
    "Download report (HTML)",
    data=report_bytes,
    file_name=f"{source.name}_kpis_{window.end:%Y%m%d}.html",
    mime="text/html",
    key="kpi_report",
    icon=":material/summarize:",
    type="primary",
)

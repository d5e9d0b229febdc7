"""The KPI page's detail tabs that manage things: targets, metric definitions, saved views
and (for admins) warehouse connections. Each is a `show_*` function over core services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from components import kpi_state
from components.resources import services
from core.auth.roles import Role, User
from core.data.roles import ROLES
from core.kpis import custom, targets, views, warehouse
from core.kpis.metrics import Metric
from core.kpis.periods import Window
from core.kpis.source import KpiSource

NO_ROLE = ""


def show_targets(
    user: User,
    source: KpiSource,
    available: dict[str, Metric],
    chosen: list[str],
    asof: date,
    actual: Callable[[str, Window], float],
) -> pd.DataFrame | None:
    """Targets with progress and state, and (for analysts) a form to set one."""
    svc = services()
    statuses = [
        targets.evaluate(
            t,
            actual(t.metric, Window(t.period.start, min(t.period.end, asof))),
            available[t.metric],
            asof,
        )
        for t in targets.list_targets(svc.store, user, source.name)
        if t.metric in available and t.period.start <= asof
    ]
    table = None
    if statuses:
        table = targets.status_frame(statuses, {k: m.label for k, m in available.items()})
        st.dataframe(
            table,
            hide_index=True,
            alt="Targets",
            column_config={
                "progress": st.column_config.ProgressColumn(
                    "Progress", min_value=0, max_value=1, format="percent"
                ),
                "target": st.column_config.NumberColumn("Target", format="localized"),
                "actual": st.column_config.NumberColumn("Actual so far", format="localized"),
                "projection": st.column_config.NumberColumn("Projected", format="localized"),
            },
        )
        st.caption("Targets are measured on the whole dataset (no filters), up to the latest data.")
    else:
        st.info("No targets yet for this dataset's periods.")
    if user.can(Role.ANALYST):
        with st.form("kpi_target_form"):
            cols = st.columns(4)
            metric = cols[0].selectbox(
                "Metric",
                chosen,
                format_func=lambda k: available[k].label,
                key="kpi_target_metric",
            )
            grain = cols[1].selectbox(
                "Period", ["month", "quarter", "year", "week"], key="kpi_target_grain"
            )
            day = cols[2].date_input("Period containing", value=asof, key="kpi_target_period")
            value = cols[3].number_input(
                "Target", min_value=0.0, value=0.0, step=1000.0, key="kpi_target_value"
            )
            if st.form_submit_button("Save target", type="primary"):
                targets.set_target(svc.store, user, source.name, metric, grain, day, value)
                st.toast("Target saved.")
                st.rerun()
    return table


def show_metrics(user: User, source: KpiSource, available: dict[str, Metric]) -> None:
    """Every metric's definition, and (for analysts) the custom metric form."""
    svc = services()
    listing = pd.DataFrame(
        {
            "metric": [m.label for m in available.values()],
            "key": list(available),
            "group": [m.group for m in available.values()],
            "definition": [m.help for m in available.values()],
            "up is bad": [m.up_is_bad for m in available.values()],
        }
    )
    st.dataframe(listing, hide_index=True, alt="Metric definitions")
    if not user.can(Role.ANALYST):
        return
    st.subheader("Define a metric")
    columns = [c.name for c in source.columns]
    with st.form("kpi_custom_form"):
        a, b, c = st.columns(3)
        label = a.text_input("Name", max_chars=custom.MAX_LABEL, key="kpi_cm_label")
        aggregation = b.selectbox(
            "Aggregation",
            list(custom.AGGREGATIONS),
            key="kpi_cm_agg",
            format_func=custom.AGGREGATIONS.get,
        )
        column = c.selectbox(
            "Column", ["", *columns], format_func=lambda v: v or "(rows)", key="kpi_cm_column"
        )
        d, e, f = st.columns(3)
        f_column = d.selectbox(
            "Only rows where",
            ["", *columns],
            key="kpi_cm_filter_column",
            format_func=lambda v: v or "(all rows)",
        )
        f_op = e.selectbox("Operator", custom.OPERATORS, key="kpi_cm_op")
        f_values = f.text_input(
            "Value(s)", help="Separate several values with commas", key="kpi_cm_values"
        )
        bad = st.checkbox("Up is bad (e.g. returns, costs)", key="kpi_cm_up_is_bad")
        if st.form_submit_button("Save metric", type="primary"):
            rule = (
                custom.MetricFilter(f_column, f_op, tuple(f_values.split(",")))
                if f_column
                else None
            )
            saved = custom.save(
                svc.store, user, source, label, aggregation, column or None, rule, bad
            )
            st.toast(f"Saved metric {saved.label}.")
            st.rerun()
    for defined in custom.list_custom(svc.store, user, source.name):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.text(f"{defined.label}: {custom.describe(defined)}")
            if st.button("Delete", key=f"kpi_custom_del_{defined.id}"):
                custom.delete(svc.store, user, defined.id)
                st.rerun()


def show_saved_views(
    user: User, source: KpiSource, state: views.ViewState, dataset_id: int | None
) -> None:
    """Save the current view under a name; open or delete saved ones."""
    svc = services()
    st.caption(
        "The address bar always holds this view: copy it to share. Save views to return to them."
    )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        name = st.text_input("View name", key="kpi_view_name", max_chars=100)
        if st.button("Save view", key="kpi_save_view", type="primary", disabled=not name.strip()):
            views.save_view(svc.store, user, source.name, name, state, dataset_id=dataset_id)
            st.toast(f"Saved view {name.strip()}.")
    for saved in views.list_views(svc.store, user, source.name):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.text(saved.name)
            if st.button("Open", key=f"kpi_view_open_{saved.id}"):
                st.session_state[kpi_state.PENDING] = saved.params
                st.session_state[kpi_state.TRAIL] = []
                st.rerun()
            if st.button("Delete", key=f"kpi_view_del_{saved.id}"):
                views.delete_view(svc.store, user, saved.id)
                st.rerun()


def show_warehouse(user: User) -> None:
    """Admins: add connections, register tables, and correct their column roles."""
    svc = services()
    st.caption(
        "Register a table in an external database (PostgreSQL and other SQLAlchemy "
        "databases) as a KPI source. Credentials are stored encrypted."
    )
    with st.form("kpi_connection_form"):
        name = st.text_input("Connection name", key="kpi_wh_name")
        url = st.text_input(
            "SQLAlchemy URL",
            type="password",
            key="kpi_wh_url",
            placeholder="postgresql+psycopg://user:password@host/db",
        )
        if st.form_submit_button("Add connection"):
            warehouse.add_connection(svc.store, svc.settings, user, name, url)
            st.toast(f"Added connection {name}.")
    known = warehouse.connections(svc.store, user)
    if not known:
        return
    st.dataframe(
        pd.DataFrame(
            {"connection": [c.name for c in known], "url": [c.display_url for c in known]}
        ),
        hide_index=True,
        alt="Warehouse connections",
    )
    with st.form("kpi_table_form"):
        a, b, c, d = st.columns(4)
        connection = a.selectbox("Connection", [c.name for c in known], key="kpi_wh_conn")
        schema = b.text_input("Schema", placeholder="default", key="kpi_wh_schema")
        table = c.text_input("Table", key="kpi_wh_table")
        alias = d.text_input("Name in Beacon", placeholder="the table's name", key="kpi_wh_alias")
        if st.form_submit_button("Register table"):
            added = warehouse.add_table(
                svc.store,
                svc.settings,
                user,
                connection,
                table.strip(),
                schema=schema.strip() or None,
                name=alias.strip() or None,
            )
            st.toast(f"Registered {added.name}: pick it under Source → Warehouse.")
    registered = {t.name: t for t in warehouse.tables(svc.store, user)}
    if not registered:
        return
    chosen = st.selectbox("Column roles of", list(registered), key="kpi_wh_roles_of")
    current = registered[chosen]
    frame = pd.DataFrame(
        {
            "column": [c.name for c in current.columns],
            "type": [c.type for c in current.columns],
            "role": [c.role or NO_ROLE for c in current.columns],
        }
    )
    edited = st.data_editor(
        frame,
        key=f"kpi_wh_roles_{current.id}_{current.updated_at.timestamp()}",
        hide_index=True,
        disabled=["column", "type"],
        column_config={"role": st.column_config.SelectboxColumn("Role", options=[NO_ROLE, *ROLES])},
    )
    changed = {
        row.column: (row.role or None)
        for row in edited.itertuples()
        if (row.role or None) != next(c.role for c in current.columns if c.name == row.column)
    }
    if st.button("Save roles", key="kpi_wh_save_roles", disabled=not changed):
        warehouse.set_table_roles(svc.store, user, chosen, changed)
        st.toast(f"Saved {len(changed)} role change(s) for {chosen}.")
        st.rerun()

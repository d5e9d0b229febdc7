"""Risk register tab: heat map, editable register, the admins' country and certification lists."""

from __future__ import annotations

import datetime

import pandas as pd
import streamlit as st

from components import downloads, errors, supply_charts
from components.resources import services
from core.auth.roles import Role, User
from core.supply_chain import countries, preferences, register
from core.supply_chain.register import STATUSES, RegisterEdit, RegisterEntry
from core.supply_chain.risks import RULES, RiskAssessment

CC = st.column_config
EDITABLE = ("owner", "status", "due_date", "notes")
COLUMNS = {
    "subject": CC.TextColumn("Subject", width="medium"),
    "type": CC.TextColumn("Risk"),
    "likelihood": CC.NumberColumn("L", help="Likelihood 1-5", format="%d"),
    "impact": CC.NumberColumn("I", help="Impact 1-5", format="%d"),
    "score": CC.ProgressColumn("Score", min_value=0, max_value=25, format="%d"),
    "owner": CC.TextColumn("Owner", max_chars=register.MAX_OWNER),
    "status": CC.SelectboxColumn("Status", options=list(STATUSES), required=True),
    "due_date": CC.DateColumn("Due", format="YYYY-MM-DD"),
    "notes": CC.TextColumn("Mitigation notes", max_chars=register.MAX_NOTES, width="medium"),
    "detected": CC.TextColumn("Detected"),
    "reasoning": CC.TextColumn("Why", width="large"),
    "suggested_mitigation": CC.TextColumn("Suggested mitigation", width="large"),
}


def entries(user: User, scope: str, assessment: RiskAssessment, stamp: str) -> list[RegisterEntry]:
    """The register: analysts write the new assessment into it once per change; viewers read."""
    store = services().store
    if not user.can(Role.ANALYST):
        return register.merged(store, user, scope, assessment)
    synced = st.session_state.setdefault("supply_register_synced", {})
    if synced.get(scope) != stamp:
        register.sync(store, user, scope, assessment)
        synced[scope] = stamp
    return register.entries(store, user, scope)


def _frame(items: list[RegisterEntry]) -> pd.DataFrame:
    data = register.frame(items).set_index("risk_id")
    data["type"] = data["type"].map(lambda t: RULES[t].label if t in RULES else t)
    data["due_date"] = pd.to_datetime(data["due_date"]).dt.date
    return data[list(COLUMNS)]


def _value(field: str, value):
    if field == "due_date":
        if value is None or pd.isna(value):
            return None
        return value.date() if isinstance(value, pd.Timestamp | datetime.datetime) else value
    if field == "status":
        return str(value)
    return "" if value is None or pd.isna(value) else str(value)


def _edits(before: pd.DataFrame, after: pd.DataFrame) -> list[RegisterEdit]:
    """The user fields that differ between the shown and the edited register."""
    out = []
    for risk_id in after.index:
        changes = {
            field: _value(field, after.at[risk_id, field])
            for field in EDITABLE
            if _value(field, after.at[risk_id, field]) != _value(field, before.at[risk_id, field])
        }
        if changes:
            out.append(RegisterEdit(str(risk_id), **changes))
    return out


def show(
    user: User,
    scope: str,
    items: list[RegisterEntry],
    heat: pd.DataFrame,
    *,
    key: str = "supply_reg",
) -> None:
    """Heat map, filters and the register (editable by analysts)."""
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(supply_charts.risk_heatmap(heat), key=f"{key}_heat")
    with right:
        kinds = sorted({e.type for e in items})
        picked = st.multiselect(
            "Risk types", kinds, default=kinds, key=f"{key}_types",
            format_func=lambda t: RULES[t].label if t in RULES else t,
        )  # fmt: skip
        statuses = st.multiselect(
            "Status", list(STATUSES), default=list(STATUSES), key=f"{key}_status"
        )
        show_gone = st.toggle("Show risks no longer detected", key=f"{key}_gone")
        st.caption(f"Register: {scope} · {len(items)} risks")
    chosen = [
        e for e in items if e.type in picked and e.status in statuses and (e.detected or show_gone)
    ]
    frame = _frame(chosen) if chosen else pd.DataFrame(columns=list(COLUMNS))
    if not user.can(Role.ANALYST):
        st.dataframe(
            frame, hide_index=True, column_config=COLUMNS, key=f"{key}_view", alt="Risk register"
        )
    else:
        version = st.session_state.get(f"{key}_version", 0)
        edited = st.data_editor(
            frame,
            column_config=COLUMNS,
            disabled=[c for c in COLUMNS if c not in EDITABLE],
            hide_index=True,
            key=f"{key}_editor_{version}",
            num_rows="fixed",
        )
        edits = _edits(frame, edited) if chosen else []
        if st.button(
            f"Save {len(edits)} change(s)" if edits else "Save changes", key=f"{key}_save",
            disabled=not edits, type="primary", icon=":material/save:",
        ):  # fmt: skip
            with errors.shown():
                changed = register.update(services().store, user, scope, edits)
                st.session_state[f"{key}_version"] = version + 1
                st.toast(f"Saved {changed} risk(s).")
                st.rerun()
    downloads.table_csv(
        frame.reset_index(), "risk_register.csv", key=f"{key}_csv", label="Register CSV"
    )


def admin_tables(user: User, *, key: str = "supply_admin") -> None:
    """The country risk table and required certifications (admins only)."""
    if not user.can(Role.ADMIN):
        return
    store = services().store
    with st.expander(
        "Country risk table and required certifications (admin)", icon=":material/shield:"
    ):
        st.caption(countries.SOURCE)
        table = countries.table_frame(preferences.country_table(store, user))
        version = st.session_state.get(f"{key}_version", 0)
        edited = st.data_editor(
            table,
            num_rows="dynamic",
            hide_index=True,
            key=f"{key}_countries_{version}",
            column_config={
                "country": CC.TextColumn("Country", required=True, max_chars=100),
                "score": CC.NumberColumn(
                    "Score (1-5)", min_value=1, max_value=5, step=1, required=True
                ),
                "note": CC.TextColumn("Source / note", max_chars=300),
            },
        )
        if st.button("Save country table", key=f"{key}_save_countries", icon=":material/save:"):
            with errors.shown():
                preferences.save_country_table(store, user, countries.parse_table(edited))
                st.session_state[f"{key}_version"] = version + 1
                st.toast("Country table saved.")
                st.rerun()
        current = ", ".join(preferences.required_certifications(store, user))
        text = st.text_area(
            "Required certifications (comma separated)", current, key=f"{key}_certs"
        )
        if st.button("Save certifications", key=f"{key}_save_certs", icon=":material/save:"):
            with errors.shown():
                preferences.save_required_certifications(
                    store, user, preferences.parse_certifications(text)
                )
                st.toast("Required certifications saved.")
                st.rerun()

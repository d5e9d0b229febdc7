"""The segment rules tab: the R x F grid, how scores work, and the rule editor."""

from __future__ import annotations

import streamlit as st

from components import errors, segment_charts
from components.resources import services
from core.auth.roles import Role, User
from core.segmentation import rfm, rule_store, rules
from core.segmentation.pipeline import RfmSegments
from core.segmentation.rule_store import RuleSet

SCORING_NOTE = (
    "Each customer gets a score from 1 to 5 for recency (days since the last purchase at the "
    "as-of date; the most recent fifth scores 5), frequency (orders) and monetary value. "
    "Scores are quintiles of each metric's rank, so every score holds a fifth of the customers. "
    "Most customers often share the same small order count, so ties are broken on rank: among "
    "customers with the same value the order is a fixed pseudo-random one (a hash of the "
    "customer ID), which favours neither old nor new customers and stays the same from one "
    "as-of date to the next. Customers with the same value can therefore get adjacent scores; "
    "the table below shows each score's range."
)


def show(user: User, now: RfmSegments, rule_set: RuleSet, *, key: str = "segment_rules") -> None:
    """Grid chart, scoring explanation and the rules table (editable by analysts)."""
    can_edit = user.can(Role.ANALYST)
    st.plotly_chart(segment_charts.rf_grid(rules.grid(now.rules), now.customers), key=f"{key}_grid")
    with st.expander("How scores work"):
        st.write(SCORING_NOTE)
        split = rfm.shared_boundaries(now.edges)
        if split:
            st.caption(
                "Here, customers with equal values were split across neighbouring scores for: "
                + ", ".join(split)
                + "."
            )
        st.dataframe(now.edges, hide_index=True, alt="Value range of each score")
    st.caption(
        "A customer belongs to the first rule whose R and F ranges contain their scores; "
        "every cell of the grid needs a rule."
        + (
            ""
            if rule_set.is_standard
            else f" Last changed by {rule_set.updated_by} on {rule_set.updated_at:%Y-%m-%d}."
        )
    )
    edited = st.data_editor(
        rules.rules_frame(now.rules),
        key=f"{key}_editor",
        num_rows="dynamic" if can_edit else "fixed",
        disabled=not can_edit,
        hide_index=True,
        column_config={
            "name": st.column_config.TextColumn("Segment", required=True, max_chars=100),
            "r_min": st.column_config.NumberColumn("R from", min_value=1, max_value=5, step=1),
            "r_max": st.column_config.NumberColumn("R to", min_value=1, max_value=5, step=1),
            "f_min": st.column_config.NumberColumn("F from", min_value=1, max_value=5, step=1),
            "f_max": st.column_config.NumberColumn("F to", min_value=1, max_value=5, step=1),
            "action": st.column_config.TextColumn("Suggested action"),
        },
        alt="Segment rules",
    )
    if can_edit:
        with st.container(horizontal=True):
            if st.button("Save rules", key=f"{key}_save", type="primary"):
                with errors.shown():
                    saved = rule_store.save_rules(
                        services().store, user, rules.rules_from_frame(edited)
                    )
                    st.session_state.pop(f"{key}_editor", None)
                    st.toast(f"Saved {len(saved.rules)} segment rules.")
                    st.rerun()
            if st.button(
                "Reset to the standard grid", key=f"{key}_reset", disabled=rule_set.is_standard
            ):
                with errors.shown():
                    rule_store.reset_rules(services().store, user)
                    st.session_state.pop(f"{key}_editor", None)
                    st.toast("Back to the standard segment rules.")
                    st.rerun()
    hidden = rules.shadowed(now.rules)
    if hidden:
        st.warning(f"Earlier rules cover every cell of: {', '.join(hidden)}; they match nobody.")

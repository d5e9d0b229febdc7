"""Suppliers tab: weight sliders (saved per user, or for everyone by admins) and scorecards."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, supply_charts, supply_data
from components.resources import services
from core.auth.roles import Role, User
from core.supply_chain import preferences
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.suppliers import WEIGHT_LABELS, Scorecard

CC = st.column_config
TABLE = {
    "rank": CC.NumberColumn("Rank", format="%d"),
    "name": CC.TextColumn("Supplier"),
    "supplier_id": CC.TextColumn("Id"),
    "country": CC.TextColumn("Country"),
    "score": CC.ProgressColumn("Score", min_value=0, max_value=100, format="%.0f"),
    "on_time": CC.NumberColumn("On time", format="percent"),
    "lead_time_mean": CC.NumberColumn("Lead time (days)", format="%.1f"),
    "lead_time_cv": CC.NumberColumn("Lead-time CV", format="%.2f"),
    "defect_rate": CC.NumberColumn("Defects", format="percent"),
    "spend_share": CC.NumberColumn("Spend share", format="percent"),
    "skus": CC.NumberColumn("SKUs", format="%d"),
    "single_source_skus": CC.NumberColumn("Single-source SKUs", format="%d"),
    "on_time_source": CC.TextColumn("Measured from"),
}
CATEGORIES = {
    "category": CC.TextColumn("Category"),
    "suppliers": CC.NumberColumn("Suppliers", format="%d"),
    "spend": CC.NumberColumn(
        "Spend", format="localized", help="Units ordered by customers (else shipped in) x unit cost"
    ),
    "hhi": CC.NumberColumn(
        "HHI", format="localized", help="Sum of squared % spend shares (0-10,000)"
    ),
    "top_supplier": CC.TextColumn("Largest supplier"),
    "top_share": CC.NumberColumn("Its share", format="percent"),
}


def weights(user: User, *, key: str = "supply_weights") -> dict[str, float]:
    """Sliders starting at the user's saved weights; returns the weights to score with."""
    store = services().store
    saved = preferences.weights(store, user)
    with st.expander("Scorecard weights", icon=":material/tune:"):
        st.caption("How much each measure counts in the 0-100 score (weights are relative).")
        chosen = {
            name: st.slider(
                label,
                0.0,
                1.0,
                float(min(saved[name], 1.0)),
                0.05,
                key=f"{key}_{name}",
                disabled=not user.can(Role.ANALYST),
            )
            for name, label in WEIGHT_LABELS.items()
        }
        if not user.can(Role.ANALYST):
            st.caption("Viewers score with the saved weights; analysts can change them.")
            return saved
        shared = user.can(Role.ADMIN) and st.checkbox(
            "Save for everyone (users without their own weights)", key=f"{key}_shared"
        )
        if st.button("Save weights", key=f"{key}_save", icon=":material/save:"):
            with errors.shown():
                preferences.save_weights(store, user, chosen, shared=bool(shared))
                st.toast("Weights saved.")
    return chosen


def show(
    user: User, sources: supply_data.Sources, data: SupplyInputs, *, key: str = "supply_sup"
) -> Scorecard | None:
    """Scorecards, category concentration, single-source SKUs and the on-time trend."""
    chosen = weights(user, key=f"{key}_w")
    if sum(chosen.values()) <= 0:
        st.warning("Give at least one scorecard weight above zero.")
        return None
    card = None
    with errors.shown():
        card = supply_data.scorecard(sources, tuple(sorted(chosen.items())), data)
    if card is None:
        return None
    for note in card.notes:
        st.caption(f":material/info: {note}")
    table = card.table
    shown = [c for c in TABLE if c in table.columns]
    st.dataframe(
        table[shown],
        hide_index=True,
        column_config=TABLE,
        key=f"{key}_table",
        alt="Supplier scorecards",
    )
    downloads.table_csv(
        table[shown], "supplier_scorecards.csv", key=f"{key}_csv", label="Scorecards CSV"
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Concentration by category**")
        st.dataframe(
            card.categories,
            hide_index=True,
            column_config=CATEGORIES,
            key=f"{key}_cats",
            alt="Concentration by category",
        )
    with right:
        st.markdown(f"**Single-source SKUs ({len(card.single_source)})**")
        st.dataframe(
            card.single_source, hide_index=True, key=f"{key}_single", alt="Single-source SKUs"
        )
    if not card.trend.empty:
        names = dict(zip(table["supplier_id"], table["name"], strict=True))
        left, right = st.columns([3, 1])
        picked = left.multiselect(
            "Trend of", list(names), default=list(table["supplier_id"][:3]),
            format_func=lambda s: names.get(s, s), key=f"{key}_trend_of",
        )  # fmt: skip
        measure = right.selectbox(
            "Measure", list(supply_charts.TREND_MEASURES), key=f"{key}_trend_measure",
            format_func=lambda m: supply_charts.TREND_MEASURES[m][1],
        )  # fmt: skip
        trend = card.trend[card.trend["supplier_id"].isin(picked)]
        if not trend.empty:
            chart = supply_charts.supplier_trend(trend, names, measure)
            st.plotly_chart(chart, key=f"{key}_trend")
    return card

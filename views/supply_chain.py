"""Supply chain: which SKUs will run out, which suppliers put them at risk, what to order now."""

from __future__ import annotations

import streamlit as st

from components import (
    errors,
    session,
    supply_carbon,
    supply_data,
    supply_policy,
    supply_register,
    supply_suppliers,
    supply_whatif,
)
from components.resources import services
from core.auth.roles import Role
from core.supply_chain import carbon_tables, inputs, overview, preferences, suppliers
from core.supply_chain.policy import PolicySettings

HIGH_RISK = 15  # likelihood x impact: the top band of the heat map
TABS = ("Inventory policy", "Recommended orders", "Suppliers", "Risk register", "What-if", "Carbon")

user = session.require_role(Role.VIEWER, "Viewing supply chain")
store = services().store

st.title("Supply chain")
st.caption(
    "Which SKUs will run out, which suppliers put them at risk, and what to order now, "
    "with the arithmetic shown."
)

sources = supply_data.pick(user)
if not sources:
    st.info(
        "No dataset looks like orders, inventory, a SKU or supplier master, or shipments. "
        "Upload them on the Data page, or load the sample company there."
    )
    st.page_link("views/data.py", label="Go to the Data page", icon=":material/database:")
    st.stop()

data = None
with errors.shown():
    data = supply_data.load(sources, user)
if data is None:
    st.stop()

with st.sidebar:
    target = st.segmented_control(
        "Service target", ["Cycle service level", "Fill rate"], default="Cycle service level",
        key="supply_target", required=True,
        help="Cycle service level: the chance a replenishment cycle has no stock-out. "
        "Fill rate: the share of demand met from stock (solved with the normal loss function).",
    )  # fmt: skip
    if target == "Fill rate":
        fill = st.slider("Fill rate", 0.80, 0.999, 0.98, 0.001, key="supply_fill_rate")
        level, fill_rate = 0.95, float(fill)
    else:
        level = st.slider(
            "Cycle service level", 0.80, 0.995, 0.95, 0.005, key="supply_service_level",
            help="Chance of no stock-out in a replenishment cycle; sets the safety stock.",
        )  # fmt: skip
        fill_rate = None
    review = st.number_input("Review period (weeks)", 1, 12, 1, key="supply_review")
settings = PolicySettings(
    service_level=float(level), fill_rate=fill_rate, review_period=float(review)
)
run_id = None
with errors.shown():
    run_id = supply_data.demand_source(user, data, settings.freq)
country_table = preferences.country_table(store, user)
required = preferences.required_certifications(store, user)
factors = carbon_tables.current(store, user)
names = suppliers.supplier_names(data.suppliers)


def missing(view: str) -> bool:
    """Say what the view lacks; True when it cannot be shown at all."""
    return supply_data.explain_missing(data, view)


policy = assessment = emissions = None
with errors.shown(), st.spinner("Computing the inventory policy and risks…"):
    if inputs.ready_for(data, "policy"):
        policy = supply_data.policy(sources, settings, data, run_id, user)
    if inputs.ready_for(data, "risks") or inputs.ready_for(data, "suppliers"):
        assessment = supply_data.assessment(
            sources, settings, tuple(sorted(country_table.items())), required, data,
            None if policy is None else policy.table,
        )  # fmt: skip
    if inputs.ready_for(data, "carbon"):
        emissions = supply_data.emissions(sources, factors, data)

with st.container(horizontal=True):
    if policy is not None:
        table = policy.table
        # A SKU without lead time or stock on hand has no probability: say so, not "safe".
        unknown = int(table["stockout_probability"].isna().sum())
        at_risk = int((table["stockout_probability"] >= 0.5).sum())
        st.metric(
            "SKUs likely to stock out", f"{at_risk:,} of {len(table):,}", border=True,
            help="Stock-out before an order placed now arrives is likelier than not"
            + (f"; {unknown:,} SKUs lack lead time or stock on hand and are not counted."
               if unknown else "."),
        )  # fmt: skip
        orders = policy.recommended_orders
        planned = bool(table["order_up_to"].notna().any())
        st.metric(
            "Orders to place", f"{len(orders):,}", border=True,
            help=f"Worth {orders['order_value'].sum():,.0f} at unit cost." if planned
            else "None can be planned without lead times.",
        )  # fmt: skip
    if assessment is not None:
        high = sum(r.score >= HIGH_RISK for r in assessment.risks)
        st.metric(
            "High risks", f"{high:,} of {len(assessment.risks):,}", border=True,
            help=f"Likelihood x impact of {HIGH_RISK} or more.",
        )  # fmt: skip
    if emissions is not None:
        st.metric("Transport emissions", f"{emissions.total_kg / 1000:,.0f} t CO2e", border=True)
for note in data.notes:
    st.caption(f":material/info: {note}")

tabs = dict(zip(TABS, st.tabs(list(TABS)), strict=True))
with tabs["Inventory policy"]:
    if not missing("policy") and policy is not None:
        supply_policy.show_policy(policy)
with tabs["Recommended orders"]:
    if not missing("policy") and policy is not None:
        supply_policy.show_orders(policy)
with tabs["Suppliers"]:
    if not missing("suppliers"):
        supply_suppliers.show(user, sources, data)
with tabs["Risk register"]:
    missing("risks")
    if assessment is not None:
        for label, why in assessment.skipped:
            st.caption(f":material/info: {label} not assessed: {why}.")
        scope = overview.register_scope(data)
        stamp = repr((sources, settings, sorted(country_table.items()), required))
        items = None
        with errors.shown():
            items = supply_register.entries(user, scope, assessment, stamp)
        if items is not None:
            supply_register.show(user, scope, items, assessment.heatmap())
    supply_register.admin_tables(user)
with tabs["What-if"]:
    if not missing("scenarios"):
        supply_whatif.show(sources, data, settings, factors, names, run_id=run_id, user=user)
with tabs["Carbon"]:
    supply_carbon.factor_editor(user, factors)
    if not missing("carbon") and emissions is not None:
        supply_carbon.show(emissions, names)

"""What-if tab: a scenario form and the base case side by side with the scenario."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import errors, supply_data
from core.auth.roles import User
from core.supply_chain import carbon, scenarios
from core.supply_chain.carbon import FactorTable
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.policy import PolicySettings

CC = st.column_config
NONE = "(none)"
SKU_COLUMNS = {
    "sku": CC.TextColumn("SKU"),
    "supplier_id": CC.TextColumn("Supplier"),
    "safety_stock_base": CC.NumberColumn("Safety stock: base", format="%.0f"),
    "safety_stock_scenario": CC.NumberColumn("Safety stock: scenario", format="%.0f"),
    "safety_stock_change": CC.NumberColumn("Change", format="%+.0f"),
    "reorder_point_base": CC.NumberColumn("Reorder point: base", format="%.0f"),
    "reorder_point_scenario": CC.NumberColumn("Reorder point: scenario", format="%.0f"),
    "stockout_probability_base": CC.NumberColumn("P(stock-out): base", format="percent"),
    "stockout_probability_scenario": CC.NumberColumn("P(stock-out): scenario", format="percent"),
}


def _form(data: SupplyInputs, names: dict[str, str], key: str) -> scenarios.Scenario | None:
    with st.form(f"{key}_form", border=True):
        left, mid, right = st.columns(3)
        lead = left.number_input("Lead times (%)", -90.0, 500.0, 0.0, 5.0, key=f"{key}_lead")
        demand = left.number_input("Demand (%)", -90.0, 500.0, 0.0, 5.0, key=f"{key}_demand")
        out = mid.selectbox(
            "Supplier out", [NONE, *names], key=f"{key}_out",
            format_func=lambda s: s if s == NONE else f"{names[s]} ({s})",
        )  # fmt: skip
        weeks = mid.number_input("for weeks", 0, 104, 4, 1, key=f"{key}_weeks")
        modes = [NONE, *carbon.MODES]
        src = right.selectbox("Move shipments from", modes, key=f"{key}_from")
        dst = right.selectbox("to", modes, key=f"{key}_to")
        share = right.slider("Share moved", 0.05, 1.0, 1.0, 0.05, key=f"{key}_share")
        run = st.form_submit_button("Compare with the base case", type="primary")
    if run:
        st.session_state[f"{key}_scenario"] = scenarios.Scenario(
            name="What-if",
            lead_time_pct=float(lead),
            demand_pct=float(demand),
            supplier_out=None if out == NONE else out,
            out_weeks=int(weeks) if out != NONE else 0,
            shift_from=None if src == NONE else src,
            shift_to=None if dst == NONE else dst,
            shift_share=float(share),
        )
    return st.session_state.get(f"{key}_scenario")


def _fmt(value: float, unit: str) -> str:
    if pd.isna(value):
        return "-"
    if unit == "probability":
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 100 or unit in ("SKUs", "units") else f"{value:,.1f}"


def show(
    sources: supply_data.Sources,
    data: SupplyInputs,
    settings: PolicySettings,
    table: FactorTable,
    names: dict[str, str],
    *,
    run_id: int | None = None,
    user: User | None = None,
    key: str = "supply_whatif",
) -> None:
    """The scenario form, then the comparison."""
    scenario = _form(data, names, key)
    if scenario is None:
        st.info("Set a scenario and press **Compare with the base case**.")
        return
    result = None
    with errors.shown(), st.spinner("Recomputing the policy…"):
        result = supply_data.compare(sources, scenario, settings, table, data, run_id, user)
    if result is None:
        return
    st.markdown(f"**Scenario:** {scenario.describe()}")
    with st.container(horizontal=True):
        for row in result.summary.itertuples():
            change = row.change if pd.notna(row.change) else None
            st.metric(
                row.measure, _fmt(row.scenario, row.unit),
                None if change is None else (0 if abs(change) < 1e-9 else _fmt(change, row.unit)),
                delta_description=f"vs base {_fmt(row.base, row.unit)}", delta_color="inverse",
                border=True,
            )  # fmt: skip
    st.caption(f"Carbon with factor table {result.carbon_table}.")
    st.dataframe(
        result.skus.head(200),
        hide_index=True,
        column_config=SKU_COLUMNS,
        key=f"{key}_skus",
        alt="SKUs most changed by the scenario",
    )

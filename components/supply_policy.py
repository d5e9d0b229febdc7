"""Inventory policy tab (with the Monte Carlo panel) and the recommended orders tab."""

from __future__ import annotations

import math

import streamlit as st

from components import downloads, errors, supply_charts, supply_data
from core.supply_chain.policy import PolicyResult

CC = st.column_config
POLICY_COLUMNS = {
    "sku": CC.TextColumn("SKU"),
    "product_name": CC.TextColumn("Product"),
    "supplier_id": CC.TextColumn("Supplier"),
    "abc": CC.TextColumn("ABC", help="A: top 80% of annual value, B: next 15%, C: the rest"),
    "xyz": CC.TextColumn("XYZ", help="X: steady demand (CV <= 0.5), Y: CV <= 1, Z: erratic"),
    "demand_mean": CC.NumberColumn("Demand / period", format="%.1f"),
    "demand_std": CC.NumberColumn("Error sd", format="%.1f"),
    "lead_time_days": CC.NumberColumn("Lead time (days)", format="%.1f"),
    "safety_stock": CC.NumberColumn("Safety stock", format="%.0f"),
    "reorder_point": CC.NumberColumn("Reorder point", format="%.0f"),
    "eoq": CC.NumberColumn("EOQ", format="%.0f"),
    "order_up_to": CC.NumberColumn("Order-up-to", format="%.0f"),
    "on_hand": CC.NumberColumn("On hand", format="%.0f"),
    "on_order": CC.NumberColumn("On order", format="%.0f"),
    "days_of_cover": CC.NumberColumn("Days of cover", format="%.0f"),
    "stockout_date": CC.DateColumn("Stock-out date", format="YYYY-MM-DD"),
    "stockout_probability": CC.ProgressColumn(
        "P(stock-out)", min_value=0.0, max_value=1.0, format="percent",
        help="Chance of running out before an order placed now arrives",
    ),
}  # fmt: skip
ORDER_COLUMNS = {
    "sku": CC.TextColumn("SKU"),
    "product_name": CC.TextColumn("Product"),
    "supplier_name": CC.TextColumn("Supplier"),
    "order_qty": CC.NumberColumn("Quantity", format="%.0f"),
    "order_by": CC.DateColumn("Order by", format="YYYY-MM-DD"),
    "unit_cost": CC.NumberColumn("Unit cost", format="%.2f"),
    "order_value": CC.NumberColumn("Value", format="%.2f"),
    "why": CC.TextColumn("Why", width="large"),
}


def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def show_policy(result: PolicyResult, *, key: str = "supply_policy") -> None:
    """The per-SKU policy table and the simulation panel."""
    table = result.table
    for note in result.notes:
        st.caption(f":material/info: {note}")
    shown = [c for c in POLICY_COLUMNS if c in table.columns]
    st.dataframe(
        table[shown].sort_values("stockout_probability", ascending=False, na_position="last"),
        hide_index=True,
        column_config=POLICY_COLUMNS,
        key=f"{key}_table",
        alt="Inventory policy per SKU, most likely stock-outs first",
    )
    downloads.table_csv(table[shown], "inventory_policy.csv", key=f"{key}_csv", label="Policy CSV")
    _simulation(result, key=f"{key}_mc")


def _simulation(result: PolicyResult, *, key: str) -> None:
    table = result.table
    usable = table[
        table["eoq"].gt(0) & table["demand_mean"].gt(0) & table["lead_time_mean"].notna()
    ].sort_values("annual_value", ascending=False)
    with st.container(border=True):
        st.subheader("Monte Carlo check of one SKU")
        st.caption(
            "Simulates the SKU's (s, Q) policy (reorder point s, order quantity Q = EOQ) with "
            "random demand and lead times: 500 runs of 520 periods, backorders allowed."
        )
        if usable.empty:
            st.info("No SKU has a reorder point, an EOQ and demand to simulate.")
            return
        skus = list(usable["sku"])
        sku = st.selectbox("SKU", skus, key=f"{key}_sku")
        if st.button("Simulate", key=f"{key}_run", icon=":material/casino:"):
            st.session_state[f"{key}_done"] = sku
        if st.session_state.get(f"{key}_done") != sku:
            return
        row = usable.set_index("sku").loc[sku]
        with errors.shown(), st.spinner("Simulating…"):
            sim = supply_data.simulate(
                float(row["reorder_point"]), float(row["eoq"]), float(row["demand_mean"]),
                float(row["demand_std"]), float(row["lead_time_mean"]),
                float(row["lead_time_std"]) if _finite(row["lead_time_std"]) else 0.0,
            )  # fmt: skip
            with st.container(horizontal=True):
                st.metric(
                    "Stock-out per cycle: analytic", f"{1 - sim.analytic_cycle_service_level:.1%}",
                    border=True,
                )  # fmt: skip
                st.metric(
                    "Stock-out per cycle: simulated", f"{sim.stockout_probability:.1%}",
                    f"± {1.96 * sim.cycle_service_level_se:.1%}", delta_color="off",
                    delta_arrow="off", border=True,
                )  # fmt: skip
                st.metric("Fill rate: analytic", f"{sim.analytic_fill_rate:.1%}", border=True)
                st.metric(
                    "Fill rate: simulated", f"{sim.fill_rate:.1%}",
                    f"± {1.96 * sim.fill_rate_se:.1%}", delta_color="off", delta_arrow="off",
                    border=True,
                )  # fmt: skip
            st.plotly_chart(
                supply_charts.stock_histogram(
                    sim.histogram_counts, sim.histogram_edges, float(row["reorder_point"])
                ),
                key=f"{key}_hist",
            )
            st.caption(
                f"± is a 95% simulation interval; {sim.cycles:,} replenishment cycles simulated."
            )


def show_orders(result: PolicyResult, *, key: str = "supply_orders") -> None:
    """What to order, how much, from whom and by when, with a CSV export."""
    orders = result.recommended_orders
    if orders.empty:
        st.success("Nothing needs ordering before the next review.")
        return
    st.dataframe(
        orders,
        hide_index=True,
        column_config=ORDER_COLUMNS,
        key=f"{key}_table",
        alt="Recommended orders",
    )
    downloads.table_csv(orders, "recommended_orders.csv", key=f"{key}_csv", label="Orders CSV")

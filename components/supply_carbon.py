"""Carbon tab: emissions per lane, supplier and SKU, and the admins' factor table editor."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, supply_charts
from components.resources import services
from core.auth.roles import Role, User
from core.supply_chain import carbon, carbon_tables
from core.supply_chain.carbon import CarbonResult, FactorTable

CC = st.column_config
ROLLUP = {
    "supplier_id": CC.TextColumn("Supplier id"),
    "supplier": CC.TextColumn("Supplier"),
    "sku": CC.TextColumn("SKU"),
    "mode": CC.TextColumn("Mode"),
    "shipments": CC.NumberColumn("Shipments", format="%d"),
    "tonne_km": CC.NumberColumn("Tonne-km", format="localized"),
    "kg_co2e": CC.NumberColumn("kg CO2e", format="localized"),
    "share": CC.NumberColumn("Share", format="percent"),
}

EDITOR = {
    "mode": CC.SelectboxColumn("Mode", options=list(carbon.MODES), required=True),
    "kg_per_tkm": CC.NumberColumn(
        "kg CO2e / tonne-km", min_value=0.0, max_value=carbon.MAX_FACTOR, format="%.4f",
        required=True,
    ),
    "max_km": CC.NumberColumn("Up to km", min_value=1.0, format="%.0f"),
}  # fmt: skip


def show(result: CarbonResult, names: dict[str, str], *, key: str = "supply_carbon") -> None:
    """Headline figures, the largest lanes and the roll-ups."""
    used = result.shipments.dropna(subset=["kg_co2e"])
    by_mode = used.groupby("mode")["kg_co2e"].sum()
    air = by_mode.get("air", 0.0) / result.total_kg if result.total_kg else 0.0
    with st.container(horizontal=True):
        st.metric("Total emissions", f"{result.total_kg / 1000:,.1f} t CO2e", border=True)
        st.metric("Shipments counted", f"{len(used):,}", border=True)
        st.metric(
            "Per shipment", f"{result.total_kg / max(len(used), 1):,.0f} kg CO2e", border=True
        )
        st.metric("Air freight's share", f"{air:.0%}", border=True)
    st.caption(
        f"Factor table v{result.table_version}: {result.table_name}. Emissions = tonnes x km x "
        "factor per mode (GLEC Framework / ISO 14083 method), over the whole shipment history."
    )
    for note in result.notes:
        st.caption(f":material/info: {note}")
    st.plotly_chart(supply_charts.carbon_by_lane(result.by_lane, names), key=f"{key}_lanes")
    tabs = st.tabs(["By lane", "By supplier", "By SKU"])
    for tab, (label, frame) in zip(
        tabs,
        (("lanes", result.by_lane), ("suppliers", result.by_supplier), ("skus", result.by_sku)),
        strict=True,
    ):
        if "supplier_id" in frame.columns:  # names beside ids, as in the chart above
            frame = frame.assign(supplier=frame["supplier_id"].map(names)).reindex(
                columns=["supplier_id", "supplier", *frame.columns.drop("supplier_id")]
            )
        with tab:
            st.dataframe(
                frame,
                hide_index=True,
                column_config=ROLLUP,
                key=f"{key}_{label}",
                alt=f"Emissions by {label}",
            )
            downloads.table_csv(frame, f"emissions_by_{label}.csv", key=f"{key}_{label}_csv")


def factor_editor(user: User, current: FactorTable, *, key: str = "supply_factors") -> None:
    """The factor table in use, its source, and (for admins) a way to replace it."""
    with st.expander(f"Emission factors: {current.label}", icon=":material/eco:"):
        st.caption(current.source)
        st.dataframe(
            current.frame(),
            hide_index=True,
            key=f"{key}_current",
            column_config={
                "kg_per_tkm": CC.NumberColumn("kg CO2e / tonne-km", format="%.4f"),
                "max_km": CC.NumberColumn("Up to km", format="%.0f"),
            },
        )
        if not user.can(Role.ADMIN):
            return
        st.markdown("**Replace the table** (a new version; results record which one they used)")
        version = st.session_state.get(f"{key}_version", 0)
        edited = st.data_editor(
            current.frame(),
            num_rows="dynamic",
            hide_index=True,
            key=f"{key}_edit_{version}",
            column_config=EDITOR,
        )
        upload = st.file_uploader(
            "…or upload a CSV (mode, kg_per_tkm, label, max_km)", type=["csv"], key=f"{key}_upload"
        )
        name = st.text_input("Name of the table", key=f"{key}_name", placeholder="DESNZ 2025")
        source = st.text_area("Source (publisher, edition, units)", key=f"{key}_source")
        if st.button("Save as new version", key=f"{key}_save", icon=":material/save:"):
            with errors.shown():
                factors = (
                    carbon_tables.read_upload(upload.getvalue())
                    if upload is not None
                    else carbon.parse_factors(edited)
                )
                saved = carbon_tables.save(services().store, user, name, source, factors)
                st.session_state[f"{key}_version"] = version + 1
                st.toast(f"Saved factor table {saved.label}.")
                st.rerun()

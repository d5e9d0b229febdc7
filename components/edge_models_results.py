"""What packaging found: the chosen variant, verification, size and latency, and why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import downloads, edge_models_charts
from core.fleet import measure
from core.fleet.packaging import PackagedModel


def _verification_table(packaged: PackagedModel) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "variant": v.variant,
                "rows": v.rows,
                "max abs deviation": v.max_abs,
                "mean abs deviation": v.mean_abs,
                "deviation / output spread": v.relative,
                "label agreement": v.agreement,
                "within tolerance": v.passed,
            }
            for v in packaged.verifications
        ]
    )


def _ratio(ratio: float, better: str, worse: str) -> str | None:
    """'3.2x smaller', '1.5x larger', or no delta within 5% of the original."""
    if abs(ratio - 1) < 0.05:
        return None
    return f"{ratio:.1f}x {better}" if ratio > 1 else f"{1 / ratio:.1f}x {worse}"


def show(packaged: PackagedModel) -> None:
    """Metric cards, notes, the latency and size charts and their tables."""
    table = measure.table(packaged.measurements)
    chosen = table[table["variant"] == packaged.variant].iloc[0]
    original = table["variant"].iloc[0]
    check = packaged.verification
    with st.container(horizontal=True):
        st.metric(
            "Published variant",
            packaged.variant.removeprefix("onnx "),
            border=True,
            help="int8 only where it is smaller and within the tolerance",
        )
        st.metric(
            "Size",
            f"{chosen['size_kb']:,.1f} KB",
            delta=_ratio(chosen["smaller_x"], "smaller", "larger"),
            delta_color="off",
            delta_description=f"than {original}",
            border=True,
        )
        st.metric(
            "One-row latency",
            f"{chosen['single_row_ms'] * 1000:,.0f} µs",
            delta=_ratio(chosen["faster_x"], "faster", "slower"),
            delta_color="off",
            delta_description=f"than {original}",
            border=True,
        )
        if check.agreement is not None:
            st.metric(
                "Label agreement",
                f"{check.agreement:.2%}",
                border=True,
                help=f"On {check.rows:,} held-out rows; probabilities deviate by at most "
                f"{check.max_abs:.3g}",
            )
        else:
            st.metric(
                "Max deviation",
                f"{check.max_abs:.3g}",
                border=True,
                help=f"{check.relative:.3g} of the output spread, on {check.rows:,} held-out rows",
            )
    if packaged.passed:
        st.success(check.describe(), icon=":material/verified:")
    else:
        st.error(
            f"{check.describe()}: outside the tolerance, so it cannot be published.",
            icon=":material/error:",
        )
    for note in packaged.notes:
        st.caption(note)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(edge_models_charts.latency(table), key="em_latency")
    with right:
        st.plotly_chart(edge_models_charts.sizes(table), key="em_sizes")
    st.dataframe(
        table,
        hide_index=True,
        alt="Size and latency per variant",
        column_config={
            "size_kb": st.column_config.NumberColumn("size (KB)", format="%.1f"),
            "single_row_ms": st.column_config.NumberColumn("one row (ms)", format="%.4f"),
            "batch_ms": st.column_config.NumberColumn("1,000 rows (ms)", format="%.3f"),
            "rows_per_s": st.column_config.NumberColumn("rows/s", format="%,.0f"),
            "smaller_x": st.column_config.NumberColumn("smaller", format="%.1fx"),
            "faster_x": st.column_config.NumberColumn("faster (one row)", format="%.1fx"),
        },
    )
    downloads.table_csv(table, f"{packaged.name}_latency.csv", key="em_latency_csv")
    with st.expander("Verification of every variant"):
        st.dataframe(_verification_table(packaged), hide_index=True, alt="Verification")
    with st.expander("Input schema and lineage"):
        st.json({"input_schema": packaged.input_schema, "lineage": packaged.lineage})

"""The lifetime-value tab: BG/NBD + Gamma-Gamma over a horizon, per segment and customer."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, segment_charts, segment_data
from core.segmentation import clv, orders, pipeline


def show(
    src: segment_data.Source,
    options: segment_data.Options,
    table: orders.CustomerTable,
    now: pipeline.RfmSegments,
    *,
    key: str = "seg_value",
) -> None:
    """Time unit and horizon; expected purchases, P(alive), value; parameters; downloads."""
    dataset = src.dataset
    with st.container(horizontal=True, vertical_alignment="bottom"):
        unit = (
            st.segmented_control(
                "Time unit", list(clv.TIME_UNITS), default="weeks", key=f"{key}_unit"
            )
            or "weeks"
        )
        horizon = st.number_input(
            f"Horizon ({unit})",
            min_value=1,
            max_value=3650 if unit == "days" else 520,
            value=int(pipeline.DEFAULT_HORIZON[unit]),
            key=f"{key}_horizon_{unit}",
        )
    value = None
    with errors.shown(), st.status("Fitting BG/NBD and Gamma-Gamma…", expanded=False) as status:
        value = segment_data.value(src, options, unit, float(horizon))
        status.update(label="Lifetime-value models fitted", state="complete")
    if value is not None:
        per = value.customers
        horizon_label = f"{int(horizon)} {unit}"
        with st.container(horizontal=True):
            st.metric(
                "Expected purchases",
                f"{per['expected_purchases'].sum():,.0f}",
                border=True,
                help=f"Purchase days expected in the next {horizon_label}",
            )
            st.metric(
                "Expected value",
                f"{per['clv'].sum():,.0f}",
                border=True,
                help="Expected purchases x expected spend per purchase, undiscounted",
            )
            st.metric("Mean P(alive)", segment_data.pct(float(per["p_alive"].mean())), border=True)
            st.metric(
                "One-time customers",
                f"{int((per['x'] == 0).sum()):,}",
                border=True,
                help="No repeat purchase day yet: P(alive) is 1 by the model's "
                "assumption and spend is the population mean.",
            )
        for note in value.notes:
            st.caption(f":material/info: {note}")
        by_segment = pipeline.value_by_segment(now, value)
        c1, c2 = st.columns(2)
        c1.plotly_chart(
            segment_charts.clv_by_segment(by_segment, horizon_label), key=f"{key}_by_segment"
        )
        c2.plotly_chart(segment_charts.p_alive_histogram(per["p_alive"]), key=f"{key}_p_alive")
        st.dataframe(value.params_frame(), hide_index=True, alt="Fitted parameters")
        st.caption(
            f"BG/NBD fitted on {value.bgnbd.customers:,} customers by maximum likelihood "
            f"(log-likelihood {value.bgnbd.log_likelihood:,.1f}); repeat purchases count "
            "distinct purchase days. Gamma-Gamma fitted on "
            f"{value.gamma_gamma.customers if value.gamma_gamma else 0:,} repeat buyers."
        )
        full = pipeline.SegmentationResult(table, now, None, value, ())
        everyone = full.per_customer().sort_values("clv", ascending=False)
        st.caption("The 100 customers with the highest expected value:")
        st.dataframe(
            everyone.head(100),
            hide_index=True,
            alt="Top customers by expected value",
            column_config=segment_data.customer_columns(),
        )
        downloads.table_csv(
            everyone, f"{dataset.name}_lifetime_value.csv", key=f"{key}_csv", label="All customers"
        )

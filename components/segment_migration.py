"""The migration tab: segments at the comparison date against the as-of date."""

from __future__ import annotations

from datetime import date

import streamlit as st

from components import downloads, segment_charts, segment_data
from core.segmentation import migration, pipeline, rules


def show(
    dataset_name: str,
    as_of: date,
    now: pipeline.RfmSegments,
    then: pipeline.RfmSegments | None,
    before: date,
    *,
    key: str = "seg_migration",
) -> None:
    """Transition matrix, Sankey and who moved where (with a download)."""
    if then is None:
        st.info("Choose a comparison date with orders on or before it to see migration.")
    else:
        moved = migration.compare(
            then.customers, now.customers, before, as_of, [r.name for r in now.rules]
        )
        with st.container(horizontal=True):
            st.metric(
                "Stayed in their segment",
                segment_data.pct(moved.stayed_share()),
                border=True,
                help=f"Customers known on {before} who are in the same segment now",
            )
            st.metric(
                "New customers since",
                f"{int((moved.customers['from_segment'] == migration.NEW).sum()):,}",
                border=True,
            )
        st.plotly_chart(
            segment_charts.sankey(moved.flows, f"{before:%Y-%m-%d}", f"{as_of:%Y-%m-%d}"),
            key=f"{key}_sankey",
        )
        st.plotly_chart(
            segment_charts.transition_heatmap(migration.row_shares(moved.matrix), moved.matrix),
            key=f"{key}_heatmap",
        )
        with st.expander("Table view of the transition matrix"):
            st.dataframe(moved.matrix, alt="Customers moving from each segment to each segment")
        names = [r.name for r in now.rules]
        top, lapsing = rules.assign([5, 2], [5, 4], now.rules)  # e.g. Champions -> At Risk
        with st.container(horizontal=True, vertical_alignment="bottom"):
            source = st.selectbox(
                "Who moved from",
                [migration.NEW, *names],
                index=names.index(top) + 1,
                key=f"{key}_from",
            )
            target = st.selectbox("to", names, index=names.index(lapsing), key=f"{key}_to")
        who = moved.moved(source, target)
        st.caption(f"{len(who):,} customers moved from {source} to {target}.")
        st.dataframe(who.head(200), hide_index=True, alt="Customers who moved")
        downloads.table_csv(
            who, f"{dataset_name}_moved.csv", key=f"{key}_csv", label="These customers"
        )

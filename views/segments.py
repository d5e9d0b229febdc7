"""Segments: RFM segments, clusters with k chosen in the open, migration and lifetime value."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from components import (
    dataset_picker,
    downloads,
    errors,
    segment_charts,
    segment_clusters,
    segment_data,
    segment_migration,
    segment_rules,
    segment_runs,
    segment_value,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.data.export import frame_to_csv
from core.segmentation import orders, pipeline, rule_store

user = session.require_role(Role.VIEWER, "Viewing segments")
svc = services()

st.title("Segments")
st.caption(
    "Group customers by how recently, how often and how much they buy; find natural "
    "clusters; see who moved between segments and what each customer is likely worth."
)

dataset = dataset_picker.show(user)
if dataset is None:
    st.stop()
if not dataset_picker.require_roles(dataset, list(orders.NEEDED_ROLES), "Customer segmentation"):
    suitable = orders.suitable_datasets(svc.catalog.datasets(user))
    if suitable:
        st.caption("These datasets have customer IDs, dates and amounts:")
        with st.container(horizontal=True):
            for name in suitable[:6]:
                if st.button(f"Open {name}", key=f"seg_open_{name}", icon=":material/group:"):
                    dataset_picker.select_next(name)
                    st.rerun()
    st.stop()

src = segment_data.Source(dataset, user)
default_table = None
with errors.shown():
    default_table = segment_data.customers(src, (None, "total", "net"))
if default_table is None:
    st.stop()

with st.sidebar:
    latest = default_table.latest_order
    as_of = st.date_input(
        "As of",
        value=latest,
        min_value=default_table.first_order,
        max_value=max(latest, date.today()),
        key=f"seg_as_of_{dataset.name}",
        help="Recency is counted to this date; later orders are ignored.",
    )
    before = st.date_input(
        "Compare with",
        value=as_of - timedelta(days=90),
        max_value=as_of - timedelta(days=1),
        key=f"seg_before_{dataset.name}_{as_of}",
        help="An earlier as-of date: metric deltas and the Migration tab compare with it.",
    )
    monetary = st.radio(
        "Monetary value",
        list(orders.MONETARY),
        format_func=orders.MONETARY.get,
        key="seg_monetary",
        horizontal=True,
    )
    returns = st.radio(
        "Negative amounts (returns)",
        list(orders.RETURNS),
        format_func=orders.RETURNS.get,
        key="seg_returns",
        help="Net them into each customer's spend, or leave those rows out.",
    )

options = (as_of, monetary, returns)
rule_set = rule_store.load_rules(svc.store, user)
now = None
with errors.shown():
    table = segment_data.customers(src, options)
    now = segment_data.segments(src, options, rule_set)
if now is None:
    st.stop()

for note in table.quality.notes():
    st.caption(f":material/info: {note}")

then = None
with errors.shown():
    then = segment_data.segments(src, (before, monetary, returns), rule_set)
monthly = segment_data.activity(src, table.as_of)

head = pipeline.headline(now)
past = pipeline.headline(then) if then is not None else None
since = f"vs {before:%Y-%m-%d}"
with st.container(horizontal=True):
    st.metric(
        "Customers",
        f"{head.customers:,}",
        (head.customers - past.customers) if past else None,
        delta_description=since if past else None,
        border=True,
        chart_data=monthly["customers"].tolist(),
        chart_type="bar",
        help="Customers with a purchase on or before the as-of date. "
        "Bars: customers buying in each of the last 12 months.",
    )
    st.metric(
        head.top_segment,
        segment_data.pct(head.top_share),
        round((head.top_share - past.top_share) * 100, 1) if past else None,
        delta_description=f"points {since}" if past else None,
        border=True,
        help="Share of customers in the segment of the best cell (R 5, F 5).",
    )
    st.metric(
        "At-risk revenue",
        segment_data.pct(head.at_risk_revenue_share),
        round((head.at_risk_revenue_share - past.at_risk_revenue_share) * 100, 1) if past else None,
        delta_description=f"points {since}" if past else None,
        delta_color="inverse",
        border=True,
        help=f"Revenue share of the {head.at_risk_customers:,} customers with R 1-2 and F 3-5: "
        "they used to buy often and have stopped.",
    )
    st.metric(
        "Repeat customers",
        segment_data.pct(head.repeat_share),
        round((head.repeat_share - past.repeat_share) * 100, 1) if past else None,
        delta_description=f"points {since}" if past else None,
        border=True,
        help="Share of customers with two orders or more.",
    )

left, right = st.columns([3, 2])
with left:
    st.plotly_chart(segment_charts.treemap(now.summary), key="segment_treemap")
with right:
    table_view = now.summary[
        [
            "segment",
            "customers",
            "share",
            "revenue_share",
            "recency_days",
            "frequency",
            "monetary",
            "mean_r",
            "mean_f",
            "mean_m",
        ]
    ]
    st.dataframe(
        table_view,
        hide_index=True,
        alt="Customers, revenue and mean R/F/M per segment",
        column_config={
            "segment": st.column_config.TextColumn("Segment"),
            "customers": st.column_config.NumberColumn("Customers", format="%d"),
            "share": st.column_config.NumberColumn("Share", format="percent"),
            "revenue_share": st.column_config.NumberColumn("Revenue share", format="percent"),
            "recency_days": st.column_config.NumberColumn("Recency (days)", format="%.0f"),
            "frequency": st.column_config.NumberColumn("Orders", format="%.1f"),
            "monetary": st.column_config.NumberColumn("Spend", format="%.2f"),
            "mean_r": st.column_config.NumberColumn("Mean R", format="%.1f"),
            "mean_f": st.column_config.NumberColumn("Mean F", format="%.1f"),
            "mean_m": st.column_config.NumberColumn("Mean M", format="%.1f"),
        },
    )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        downloads.table_csv(
            now.summary,
            f"{dataset.name}_segments_{table.as_of}.csv",
            key="segments_csv",
            label="Segment table",
        )
        pick = st.selectbox(
            "Customer IDs of",
            [r.name for r in now.rules],
            key="segment_ids_pick",
        )
        ids = pipeline.customers_in(now, pick)
        st.download_button(
            f"{len(ids):,} IDs",
            data=lambda ids=ids: frame_to_csv(ids),
            file_name=f"{dataset.name}_{pick.replace(' ', '_').lower()}_{table.as_of}.csv",
            mime="text/csv",
            key="segment_ids_csv",
            icon=":material/download:",
            disabled=ids.empty,
        )

tab_rules, tab_clusters, tab_value, tab_migration, tab_runs = st.tabs(
    ["Rules", "Clusters", "Lifetime value", "Migration", "Saved runs"]
)
with tab_rules:
    segment_rules.show(user, now, rule_set)
with tab_clusters:
    segment_clusters.show(src, options, table, now)
with tab_value:
    segment_value.show(src, options, table, now)
with tab_migration:
    segment_migration.show(dataset.name, table.as_of, now, then, before)
with tab_runs:
    segment_runs.show(user, dataset.name)

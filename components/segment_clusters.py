"""The clusters tab: algorithm and features, the k scan in the open, profiles, stability."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, segment_charts, segment_data
from components.resources import services
from core.auth.roles import Role
from core.segmentation import features, orders, pipeline, runs
from core.segmentation.estimators import SEGMENTERS
from core.segmentation.k_selection import DEFAULT_RANGE, SCAN_KS


def show(
    src: segment_data.Source,
    options: segment_data.Options,
    table: orders.CustomerTable,
    now: pipeline.RfmSegments,
    *,
    key: str = "seg_clusters",
) -> None:
    """Choose algorithm, features and k; show curves, profiles, scatter and downloads."""
    user, dataset = src.user, src.dataset
    can_edit = user.can(Role.ANALYST)
    available = [
        e
        for e in features.EXTRA_FEATURES
        if not e.endswith(" mix") or dataset.column_for(e.removesuffix(" mix"))
    ]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        algorithm = st.selectbox(
            "Algorithm",
            list(SEGMENTERS),
            format_func=lambda a: SEGMENTERS[a].label,
            key=f"{key}_algorithm",
            help="k-means switches to mini-batch k-means on large data.",
        )
        extras = st.multiselect(
            "Extra features",
            available,
            key=f"{key}_extras",
            help="Recency, frequency and spend are always used (log-scaled and standardised).",
        )
    mix = tuple(e.removesuffix(" mix") for e in extras if e.endswith(" mix"))
    cluster_options = (*options, mix)
    scan = None
    with errors.shown(), st.status("Scanning k = 2..10…", expanded=False) as status:
        scan = segment_data.scan(src, cluster_options, algorithm, tuple(extras))
        status.update(label=f"Scanned k = 2..{int(scan.table['k'].max())}", state="complete")
    if scan is not None:
        choices = [None, *[int(k) for k in scan.table["k"]]]
        k_choice = st.selectbox(
            "Number of clusters (k)",
            choices,
            format_func=lambda k: f"Default: k={scan.best_k}" if k is None else f"k={k}",
            key=f"{key}_k_{algorithm}",
            help=f"The default is the best silhouette among k={DEFAULT_RANGE[0]}.."
            f"{DEFAULT_RANGE[1]}; any k from {SCAN_KS[0]} to {SCAN_KS[-1]} can be chosen.",
        )
        result = None
        with errors.shown():
            result = segment_data.clusters(src, cluster_options, algorithm, tuple(extras), k_choice)
        if result is not None:
            stab = result.stability
            with st.container(horizontal=True):
                st.metric(
                    "Clusters",
                    result.k,
                    border=True,
                    help="Chosen by you"
                    if result.chosen_by == "analyst"
                    else "Default: best silhouette in 3..8",
                )
                st.metric(
                    "Silhouette",
                    f"{result.silhouette:.2f}",
                    border=True,
                    help="-1 to 1: how much closer customers are to their own cluster "
                    "than to the next one (sampled on large data).",
                )
                st.metric(
                    "Stability",
                    "n/a" if stab is None or stab.runs == 0 else f"{stab.score:.2f}",
                    border=True,
                    help="Mean adjusted Rand index of 8 bootstrap refits against this "
                    "clustering (1 = identical)."
                    + (f" Lowest {stab.lowest:.2f}: {stab.verdict}." if stab and stab.runs else ""),
                )
            st.caption(scan.note)
            curve_sil, curve_crit = segment_charts.k_curves(
                scan.table, scan.criterion, scan.best_k, result.k
            )
            c1, c2 = st.columns(2)
            c1.plotly_chart(curve_sil, key=f"{key}_silhouette")
            c2.plotly_chart(curve_crit, key=f"{key}_criterion")
            st.caption(SEGMENTERS[algorithm].criterion_help)
            with st.expander("Table view of the k scan"):
                st.dataframe(scan.table, hide_index=True, alt="Silhouette and criterion by k")
            st.subheader("Cluster profiles")
            st.dataframe(
                result.profiles,
                hide_index=True,
                alt="Cluster profiles",
                column_config=segment_data.customer_columns(),
            )
            three_d = st.toggle("3D", key=f"{key}_3d")
            st.plotly_chart(
                segment_charts.cluster_scatter(result.scatter, three_d), key=f"{key}_scatter"
            )
            with st.container(horizontal=True):
                downloads.table_csv(
                    result.profiles,
                    f"{dataset.name}_clusters.csv",
                    key=f"{key}_profiles_csv",
                    label="Profiles",
                )
                assignments = pipeline.SegmentationResult(
                    table, now, result, None, ()
                ).per_customer()
                downloads.table_csv(
                    assignments,
                    f"{dataset.name}_cluster_assignments.csv",
                    key=f"{key}_assignments_csv",
                    label="Customer clusters",
                )
            if can_edit:
                with st.container(horizontal=True, vertical_alignment="bottom"):
                    run_name = st.text_input(
                        "Run name",
                        key=f"{key}_run_name",
                        placeholder=f"{dataset.name} {table.as_of}",
                    )
                    if st.button("Save run", key=f"{key}_save_run", icon=":material/save:"):
                        with errors.shown():
                            run_settings = pipeline.SegmentationSettings(
                                orders=segment_data.order_options(*options),
                                algorithm=algorithm,
                                k=k_choice,
                                extras=tuple(extras),
                            )
                            full = pipeline.SegmentationResult(table, now, result, None, ())
                            saved = runs.save_run(
                                services().store,
                                user,
                                dataset,
                                run_settings,
                                full,
                                run_name or f"{dataset.name} {table.as_of}",
                            )
                            st.toast(f"Saved run {saved.name!r}.")

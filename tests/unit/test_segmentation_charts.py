"""Figures of the Segments page: each has a title, axis labels and the data it claims."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components import segment_charts
from core.segmentation import migration, rules


def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["Champions", "At Risk", "Promising"],
            "customers": [10, 30, 0],
            "share": [0.25, 0.75, 0.0],
            "revenue_share": [0.6, 0.4, 0.0],
            "recency_days": [5.0, 300.0, 0.0],
            "frequency": [9.0, 3.0, 0.0],
            "monetary": [900.0, 120.0, 0.0],
        }
    )


def test_treemap_sizes_by_customers_and_skips_empty_segments():
    fig = segment_charts.treemap(summary())
    trace = fig.data[0]
    assert trace.type == "treemap"
    assert sorted(v for v in trace.values if v) == [10, 30, 40]  # segments and their total
    assert "Promising" not in list(trace.labels)
    assert fig.layout.title.text.startswith("Customers by RFM segment")


def test_rf_grid_labels_every_cell_with_its_segment_and_count():
    scored = pd.DataFrame({"r_score": [5, 5, 1], "f_score": [5, 4, 1]})
    fig = segment_charts.rf_grid(rules.grid(rules.STANDARD_RULES), scored)
    heat = fig.data[0]
    assert np.asarray(heat.z)[0, 3:].tolist() == [1, 1]  # R5: F4 and F5
    assert heat.text[0][4] == "Champions<br>1" and heat.text[4][0] == "Hibernating<br>1"
    assert fig.layout.xaxis.title.text == "Frequency score (1-5)"


def test_k_curves_mark_the_chosen_and_default_k():
    scan = pd.DataFrame(
        {
            "k": range(2, 11),
            "silhouette": np.linspace(0.5, 0.2, 9),
            "criterion": np.linspace(900, 100, 9),
        }
    )
    sil, crit = segment_charts.k_curves(scan, "inertia", best_k=4, chosen_k=6)
    assert list(sil.data[0].x) == list(range(2, 11))
    assert sil.layout.yaxis.title.text == "Mean silhouette (-1 to 1)"
    assert crit.layout.yaxis.title.text == "Inertia (sum of squared distances)"
    lines = [s.x0 for s in sil.layout.shapes if s.type == "line"]
    assert sorted(lines) == [4, 6]
    _, bic = segment_charts.k_curves(scan, "BIC", 4, 4)
    assert bic.layout.yaxis.title.text == "BIC (lower is better)"


def test_scatter_in_two_and_three_dimensions():
    sample = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "recency_days": [1, 50],
            "orders": [5, 1],
            "monetary": [500.0, 20.0],
            "cluster": [1, 2],
            "cluster_name": ["Recent", "Lapsed"],
        }
    )
    flat = segment_charts.cluster_scatter(sample)
    assert [t.name for t in flat.data] == ["1. Recent", "2. Lapsed"]
    assert flat.layout.xaxis.title.text == "Recency (days)"
    deep = segment_charts.cluster_scatter(sample, three_d=True)
    assert deep.data[0].type == "scatter3d"


def test_migration_figures():
    counts = pd.DataFrame(
        [[2, 0], [1, 1]], index=["Champions", "At Risk"], columns=["Champions", "At Risk"]
    )
    heat = segment_charts.transition_heatmap(migration.row_shares(counts), counts)
    assert np.asarray(heat.data[0].z).tolist() == [[100.0, 0.0], [50.0, 50.0]]
    flows = pd.DataFrame(
        {
            "from_segment": ["Champions", "At Risk", "At Risk"],
            "to_segment": ["Champions", "Champions", "At Risk"],
            "customers": [2, 1, 1],
        }
    )
    sankey = segment_charts.sankey(flows, "2024-01-01", "2024-06-30")
    link = sankey.data[0].link
    assert list(link.value) == [2, 1, 1] and list(link.source) == [0, 1, 1]
    assert list(sankey.data[0].node.label)[:1] == ["Champions (2024-01-01)"]


def test_value_figures():
    frame = pd.DataFrame(
        {
            "segment": ["Champions"],
            "customers": [3],
            "clv": [300.0],
            "mean_clv": [100.0],
            "mean_p_alive": [0.9],
        }
    )
    bars = segment_charts.clv_by_segment(frame, "52 weeks")
    assert bars.layout.title.text.endswith("next 52 weeks, by segment")
    assert bars.layout.yaxis.title.text == "Expected value (currency)"
    hist = segment_charts.p_alive_histogram(np.array([0.1, 0.95]))
    assert list(hist.data[0].x) == [10.0, 95.0]

"""Figures of the Supply chain page, checked on the figure objects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components import supply_charts
from core.supply_chain.risks import RiskAssessment, RiskScore


def test_heatmap_counts_risks_per_cell():
    risks = (
        RiskScore("a:1", "a", "1", "supplier", 5, 4, "", ""),
        RiskScore("a:2", "a", "2", "supplier", 5, 4, "", ""),
        RiskScore("b:1", "b", "1", "sku", 1, 1, "", ""),
    )
    fig = supply_charts.risk_heatmap(RiskAssessment(risks, ()).heatmap())
    trace = fig.data[0]
    assert np.asarray(trace.z).shape == (5, 5)
    assert trace.text[4][3] == "2" and trace.text[0][0] == "1" and trace.text[2][2] == ""
    assert fig.layout.xaxis.title.text == "Impact (1-5)"
    assert fig.layout.yaxis.title.text == "Likelihood (1-5)"


def test_carbon_bars_use_supplier_names_and_tonnes():
    lanes = pd.DataFrame(
        {"supplier_id": ["S1", "S2"], "mode": ["air", "sea"], "kg_co2e": [3000.0, 500.0]}
    )
    fig = supply_charts.carbon_by_lane(lanes, {"S1": "<b>Alpha</b>"})
    bars = fig.data[0]
    assert list(bars.y) == ["S2 · sea", "&lt;b&gt;Alpha&lt;/b&gt; · air"]  # escaped; largest on top
    assert list(bars.x) == [0.5, 3.0]


def test_stock_histogram_marks_the_reorder_point():
    fig = supply_charts.stock_histogram(
        np.array([1, 4, 2]), np.array([-10.0, 0.0, 10.0, 20.0]), 12.0
    )
    assert list(fig.data[0].x) == [-5.0, 5.0, 15.0]
    assert {shape.x0 for shape in fig.layout.shapes} == {12.0, 0}


def test_supplier_trend_per_measure():
    trend = pd.DataFrame(
        {
            "supplier_id": ["S1", "S1", "S2"],
            "quarter": pd.to_datetime(["2026-01-01", "2026-04-01", "2026-01-01"]),
            "on_time": [0.5, 1.0, 0.25],
            "lead_time_mean": [10.0, 12.0, 30.0],
        }
    )
    on_time = supply_charts.supplier_trend(trend, {"S1": "Alpha"})
    assert [t.name for t in on_time.data] == ["Alpha", "S2"]
    assert list(on_time.data[0].y) == [50.0, 100.0]
    lead = supply_charts.supplier_trend(trend, {}, "lead_time_mean")
    assert list(lead.data[1].y) == [30.0] and lead.layout.yaxis.title.text == "Lead time (days)"

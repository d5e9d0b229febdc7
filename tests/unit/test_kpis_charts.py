"""The KPI page's figure builders and its HTML report (AppTest cannot read chart data)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd

from components import kpi_charts, kpi_report
from components.kpi_downloads import frame_to_xlsx
from core.kpis import dashboard, metrics
from core.kpis.cohorts import Cohorts
from core.kpis.periods import Window, comparisons
from core.kpis.queries import Breakdown
from tests.unit.test_kpis_queries import make_source

CATALOG = metrics.catalog(make_source())
REVENUE = CATALOG["revenue"]


def trend() -> pd.DataFrame:
    periods = [date(2024, m, 1) for m in range(1, 8)]
    frame = pd.DataFrame(
        {
            "period": periods,
            "label": [f"2024-{m:02d}" for m in range(1, 8)],
            "partial": [False] * 6 + [True],
            "revenue": [100.0, 104, 98, 102, 160, 101, 40],
        }
    )
    for column, value in (("expected", 101.0), ("lower", 85.85), ("upper", 116.15)):
        frame[f"revenue__{column}"] = value
    frame["revenue__anomaly"] = [False, False, False, False, True, False, False]
    frame["revenue__reason"] = ["", "", "", "", "Revenue 160 is 11.7 robust SDs above", "", ""]
    return frame


def test_series_chart_shows_band_values_partial_periods_and_flags():
    fig = kpi_charts.series_chart(trend(), REVENUE, "month")
    names = [t.name for t in fig.data]
    assert names == [
        "Expected band",
        "Expected band (median ± 3 robust SD)",
        "Expected",
        "Revenue",
        "Partial period",
        "Anomaly",
    ]
    anomaly = fig.data[-1]
    assert list(anomaly.y) == [160] and list(anomaly.hovertext) == [
        "Revenue 160 is 11.7 robust SDs above"
    ]
    assert fig.data[1].fill == "tonexty"
    assert "2024-07 (partial)" in fig.data[3].hovertext[-1]
    assert fig.layout.title.text == "Revenue per month"
    assert fig.layout.xaxis.title.text == "Period (months)"
    assert fig.layout.yaxis.title.text == "Revenue (currency units)"


def test_percent_metrics_are_plotted_in_percent():
    frame = trend().rename(columns=lambda c: c.replace("revenue", "margin_pct"))
    frame["margin_pct"] = 0.25
    fig = kpi_charts.series_chart(frame, CATALOG["margin_pct"], "month")
    assert list(fig.data[3].y) == [25.0] * 7
    assert fig.layout.yaxis.title.text == "Margin % (%)"


def test_breakdown_chart_puts_the_largest_on_top_and_other_in_grey():
    table = pd.DataFrame(
        {
            "value": ["North", "East", "Other (2)"],
            "revenue": [360.0, 270.0, 125.0],
            "is_other": [False, False, True],
            "share": [360 / 755, 270 / 755, 125 / 755],
        }
    )
    fig = kpi_charts.breakdown_chart(Breakdown("region", "revenue", table, 755.0, 4), REVENUE)
    bar = fig.data[0]
    assert list(bar.y) == ["Other (2)", "East", "North"]  # drawn bottom-up
    assert list(bar.marker.color) == [kpi_charts.MUTED, kpi_charts.ACCENT, kpi_charts.ACCENT]
    assert bar.hovertext[-1] == "North<br>360.00 · 47.7% of total"
    assert fig.layout.title.text == "Revenue by region"


def test_cohort_heatmap_in_percent():
    matrix = pd.DataFrame([[1.0, 0.5], [1.0, None]], index=["2024-01", "2024-02"], columns=[0, 1])
    fig = kpi_charts.cohort_heatmap(Cohorts(pd.DataFrame(), matrix))
    assert fig.data[0].z[0].tolist() == [100.0, 50.0]
    assert list(fig.data[0].y) == ["2024-01", "2024-02"]
    assert fig.layout.xaxis.title.text == "Months since first order"


def test_report_is_one_self_contained_escaped_html_file():
    window = Window(date(2024, 2, 1), date(2024, 2, 29))
    frame = pd.DataFrame(
        {"rows": [3, 2, 0], "revenue": [300.0, 200.0, 0.0], "cogs": [50.0, 40.0, 0.0]},
        index=["current", "previous", "last_year"],
    )
    cards = dashboard.cards_from(
        frame, [REVENUE, CATALOG["cogs"]], window, comparisons("mtd", window)
    )
    fig = kpi_charts.series_chart(trend(), REVENUE, "month")
    page = kpi_report.build(
        "KPIs: <shop>",
        "February",
        cards,
        [fig, fig],
        {"Top <regions>": pd.DataFrame({"value": ["<b>x</b>"], "revenue": [1.0]})},
        notes=["Filters: region = North"],
    ).decode()
    assert page.startswith("<!DOCTYPE html>") and "KPIs: &lt;shop&gt;" in page
    assert page.count("plotly.js v") == 1  # the library is inlined once: works offline
    assert '<script src="http' not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "+50.0%" in page  # revenue 300 vs 200
    assert "class='bad'>+25.0%" in page  # cost went up: shown as bad
    assert "Filters: region = North" in page


def test_excel_download_is_formula_safe():
    data = frame_to_xlsx(pd.DataFrame({"value": ["=cmd()", "North"], "n": [1, 2]}))
    back = pd.read_excel(io.BytesIO(data))
    assert back["value"].tolist() == ["'=cmd()", "North"]

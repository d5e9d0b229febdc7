"""Plotly figures of the KPI page, built from core.kpis results (plain functions, no Streamlit)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled
from core.kpis.cohorts import Cohorts
from core.kpis.dashboard import format_value
from core.kpis.metrics import CURRENCY, PERCENT, Metric
from core.kpis.queries import Breakdown

BAND = "rgba(47, 91, 234, 0.12)"
ANOMALY = "#D6336C"
MUTED = "#8A94A6"
UNIT_LABELS = {CURRENCY: "currency units", PERCENT: "%"}


def axis_title(metric: Metric) -> str:
    """'Revenue (currency units)', 'Margin % (%)', 'Orders'."""
    unit = UNIT_LABELS.get(metric.unit)
    return f"{metric.label} ({unit})" if unit else metric.label


def _y(metric: Metric, values: pd.Series) -> pd.Series:
    return values * 100 if metric.unit == PERCENT else values


def series_chart(frame: pd.DataFrame, metric: Metric, grain: str) -> go.Figure:
    """The metric per period with its expected band, anomaly flags and partial periods."""
    key = metric.key
    x = pd.to_datetime(frame["period"])
    fig = go.Figure()
    upper, lower = _y(metric, frame[f"{key}__upper"]), _y(metric, frame[f"{key}__lower"])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=upper,
            mode="lines",
            line=dict(width=0),
            hoverinfo="skip",
            name="Expected band",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lower,
            mode="lines",
            line=dict(width=0),
            fill="tonexty",
            fillcolor=BAND,
            name="Expected band (median ± 3 robust SD)",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_y(metric, frame[f"{key}__expected"]),
            mode="lines",
            name="Expected",
            line=dict(color=MUTED, dash="dot", width=1),
            hoverinfo="skip",
        )
    )
    values = frame[key]
    hover = [
        f"{label}{' (partial)' if partial else ''}<br>{metric.label}: {format_value(metric, v)}"
        for label, partial, v in zip(frame["label"], frame["partial"], values, strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_y(metric, values),
            mode="lines+markers",
            name=metric.label,
            line=dict(color=ACCENT, width=2),
            marker=dict(size=5),
            connectgaps=False,
            hovertext=hover,
            hoverinfo="text",
        )
    )
    partial = frame[frame["partial"]]
    if not partial.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(partial["period"]),
                y=_y(metric, partial[key]),
                mode="markers",
                name="Partial period",
                marker=dict(size=9, color="white", line=dict(color=ACCENT, width=2)),
                hoverinfo="skip",
            )
        )
    flagged = frame[frame[f"{key}__anomaly"]]
    if not flagged.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(flagged["period"]),
                y=_y(metric, flagged[key]),
                mode="markers",
                name="Anomaly",
                marker=dict(size=11, color=ANOMALY, symbol="diamond"),
                hovertext=flagged[f"{key}__reason"],
                hoverinfo="text",
            )
        )
    fig = styled(fig, f"{metric.label} per {grain}", f"Period ({grain}s)", axis_title(metric))
    fig.update_layout(
        showlegend=True,
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"),
        height=400,
        margin=dict(l=10, r=10, t=70, b=10),
    )
    return fig


def breakdown_chart(result: Breakdown, metric: Metric) -> go.Figure:
    """Horizontal bars of the top values and Other, largest at the top."""
    table = result.table.iloc[::-1]
    colours = [MUTED if other else ACCENT for other in table["is_other"]]
    share = [
        "" if s is None or (isinstance(s, float) and math.isnan(s)) else f" · {s:.1%} of total"
        for s in table["share"]
    ]
    fig = go.Figure(
        go.Bar(
            x=_y(metric, table[metric.key]),
            y=table["value"],
            orientation="h",
            marker_color=colours,
            hovertext=[
                f"{v}<br>{format_value(metric, m)}{s}"
                for v, m, s in zip(table["value"], table[metric.key], share, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(type="category")
    title = f"{metric.label} by {result.dimension}"
    return styled(fig, title, axis_title(metric), result.dimension)


def cohort_heatmap(result: Cohorts) -> go.Figure:
    """Share of each first-order cohort active N months later."""
    matrix = result.matrix
    fig = go.Figure(
        go.Heatmap(
            z=(matrix * 100).to_numpy(),
            x=[str(c) for c in matrix.columns],
            y=list(matrix.index),
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar=dict(title="Active %"),
            hovertemplate="Cohort %{y}, month %{x}: %{z:.1f}% active<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig = styled(
        fig,
        "Cohort retention: share of customers active",
        "Months since first order",
        "Cohort (month of first order)",
    )
    fig.update_layout(height=max(340, 22 * len(matrix) + 120))
    return fig


def figure_html(fig: go.Figure) -> bytes:
    """A chart as a self-contained HTML file (plotly.js inlined, works offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")

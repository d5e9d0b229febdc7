"""Plotly figures of the Edge models page, built from core results (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled

BATCH_COLOR = "#8A94A6"


def latency(table: pd.DataFrame) -> go.Figure:
    """Median latency per variant: one row and a 1,000-row batch (log scale, ms)."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=table["variant"],
            y=table["single_row_ms"],
            name="one row",
            marker_color=ACCENT,
            hovertemplate="%{x}<br>one row: %{y:.4f} ms<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=table["variant"],
            y=table["batch_ms"],
            name="1,000 rows",
            marker_color=BATCH_COLOR,
            hovertemplate="%{x}<br>1,000 rows: %{y:.3f} ms<extra></extra>",
        )
    )
    styled(fig, "Latency (median, one thread)", "Variant", "Milliseconds (log scale)")
    fig.update_yaxes(type="log")
    fig.update_layout(barmode="group", showlegend=True, legend_title_text="Rows per call")
    return fig


def sizes(table: pd.DataFrame) -> go.Figure:
    """Size of each variant in kilobytes."""
    fig = go.Figure(
        go.Bar(
            x=table["variant"],
            y=table["size_kb"],
            marker_color=ACCENT,
            text=[f"{v:,.1f} KB" for v in table["size_kb"]],
            textposition="outside",
            hovertemplate="%{x}<br>%{y:,.1f} KB<extra></extra>",
        )
    )
    styled(fig, "Model size", "Variant", "Kilobytes")
    return fig

"""Plotly figures built from core results, with one consistent look.

Builders are plain functions (no Streamlit), so tests can check the figure itself.
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go

from core.data.profile import ColumnDetail

ACCENT = "#2F5BEA"
FONT = dict(family="sans-serif", size=13, color="#1B2333")


def styled(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Apply Beacon's chart style: title, axis labels, quiet grid, compact margins."""
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        xaxis_title=x_title,
        yaxis_title=y_title,
        template="plotly_white",
        font=FONT,
        margin=dict(l=10, r=10, t=50, b=10),
        height=340,
        showlegend=False,
        bargap=0.05,
    )
    return fig


def histogram(detail: ColumnDetail, unit: str = "") -> go.Figure:
    """Bars of a column's binned distribution."""
    frame = detail.histogram.assign(width=lambda d: d["bin_end"] - d["bin_start"])
    fig = go.Figure(
        go.Bar(
            x=frame["bin_start"] + frame["width"] / 2,
            y=frame["count"],
            width=frame["width"] if detail.kind == "numeric" else None,
            marker_color=ACCENT,
            customdata=frame[["bin_start", "bin_end"]],
            hovertemplate="%{customdata[0]} – %{customdata[1]}<br>%{y:,} rows<extra></extra>",
        )
    )
    x_title = f"{detail.column} ({unit})" if unit else detail.column
    return styled(fig, f"Distribution of {detail.column}", x_title, "Rows")


def top_values(detail: ColumnDetail) -> go.Figure:
    """Horizontal bars of a column's most frequent values."""
    frame = detail.top_values.fillna({"value": "(empty)"}).iloc[::-1]
    fig = px.bar(frame, x="count", y="value", orientation="h", color_discrete_sequence=[ACCENT])
    fig.update_traces(hovertemplate="%{y}<br>%{x:,} rows<extra></extra>")
    fig.update_yaxes(type="category")
    return styled(fig, f"Most frequent values of {detail.column}", "Rows", detail.column)

"""Plotly figures of the Rollouts page, built from core tables (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled

STATE_COLORS = {
    "pending": "#C0C6D0",
    "assigned": "#8A94A6",
    "downloading": "#7FA3F5",
    "installed": "#2F5BEA",
    "active": "#1E9E62",
    "failed": "#D64545",
    "rolled_back": "#E3A008",
}


def wave_progress(progress: pd.DataFrame) -> go.Figure:
    """Stacked bars: devices per wave by state (from rollout_overview.wave_progress)."""
    fig = go.Figure()
    for state, color in STATE_COLORS.items():
        part = progress[progress["state"] == state]
        if part["devices"].sum() == 0:
            continue
        fig.add_trace(
            go.Bar(
                x=[f"Wave {w}" for w in part["wave"]],
                y=part["devices"],
                name=state.replace("_", " "),
                marker_color=color,
                hovertemplate=f"{state}: " + "%{y} device(s)<extra>%{x}</extra>",
            )
        )
    styled(fig, "Devices per wave", "Wave", "Devices")
    fig.update_layout(barmode="stack", showlegend=True, legend_title_text="State")
    return fig


def distribution(table: pd.DataFrame, strategy: str) -> go.Figure:
    """Bars: requests each device served (from rollout_overview.distribution_table)."""
    fig = go.Figure(
        go.Bar(
            x=table["device"],
            y=table["requests"],
            marker_color=ACCENT,
            customdata=table[["share"]],
            hovertemplate="%{x}: %{y} requests (%{customdata[0]:.1%})<extra></extra>",
        )
    )
    return styled(fig, f"Requests per device ({strategy})", "Device", "Requests")

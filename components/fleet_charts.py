"""Plotly figures of the Fleet page, built from core results (no Streamlit here).

The device map is a plain scatter over longitude and latitude with a graticule, so it
draws offline: no tile server, no map download.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled
from core.fleet.health import DEGRADED, HEALTHY, NEVER, OFFLINE, ONLINE, STALE, UNHEALTHY, UNKNOWN

LIVENESS_COLORS = {
    ONLINE: "#1E9E62",
    STALE: "#E3A008",
    OFFLINE: "#D64545",
    NEVER: "#8A94A6",
    "pending": "#8A94A6",
    "revoked": "#5B2333",
    "retired": "#C0C6D0",
}
HEALTH_COLORS = {HEALTHY: "#1E9E62", DEGRADED: "#E3A008", UNHEALTHY: "#D64545", UNKNOWN: "#8A94A6"}


def device_map(devices: pd.DataFrame) -> go.Figure:
    """Devices placed by latitude and longitude, coloured by liveness, health in the hover."""
    placed = devices.dropna(subset=["lat", "lon"])
    fig = go.Figure()
    for state, color in LIVENESS_COLORS.items():
        part = placed[placed["liveness"] == state]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["lon"],
                y=part["lat"],
                mode="markers",
                name=state,
                marker=dict(size=12, color=color, line=dict(width=1, color="white")),
                customdata=part[["name", "site", "health", "kind"]].fillna(""),
                hovertemplate=(
                    "<b>%{customdata[0]}</b> (%{customdata[3]})<br>%{customdata[1]}<br>"
                    f"{state}, " + "%{customdata[2]}<br>%{y:.3f}°, %{x:.3f}°<extra></extra>"
                ),
            )
        )
    if placed.empty:
        x_range, y_range = [-180, 180], [-90, 90]
    else:  # frame the devices with a margin, never beyond the globe
        pad = max(2.0, 0.15 * max(placed["lon"].max() - placed["lon"].min(), 1))
        x_range = [max(-180, placed["lon"].min() - pad), min(180, placed["lon"].max() + pad)]
        pad = max(2.0, 0.15 * max(placed["lat"].max() - placed["lat"].min(), 1))
        y_range = [max(-90, placed["lat"].min() - pad), min(90, placed["lat"].max() + pad)]
    styled(fig, "Devices by location", "Longitude (°)", "Latitude (°)")
    fig.update_xaxes(range=x_range, dtick=10 if x_range[1] - x_range[0] > 40 else None)
    fig.update_yaxes(range=y_range, scaleanchor="x", scaleratio=1)
    fig.update_layout(showlegend=True, legend_title_text="Liveness", height=420)
    return fig


def readings(history: pd.DataFrame, device: str) -> go.Figure:
    """CPU, memory and disk use over time, in percent."""
    fig = go.Figure()
    for column, label, color in (
        ("cpu_pct", "CPU", ACCENT),
        ("mem_pct", "Memory", "#7B61FF"),
        ("disk_pct", "Disk", "#8A94A6"),
    ):
        fig.add_trace(
            go.Scatter(
                x=history["received_at"],
                y=history[column],
                mode="lines",
                name=label,
                line=dict(color=color),
                hovertemplate=f"{label} %{{y:.0f}}%<extra></extra>",
            )
        )
    styled(fig, f"Resource use of {device}", "Time (UTC)", "Use (%)")
    fig.update_yaxes(range=[0, 100])
    fig.update_layout(showlegend=True, hovermode="x unified")
    return fig


def temperature(history: pd.DataFrame, device: str) -> go.Figure:
    """Device temperature over time, in °C."""
    fig = go.Figure(
        go.Scatter(
            x=history["received_at"],
            y=history["temp_c"],
            mode="lines",
            line=dict(color="#D64545"),
            hovertemplate="%{y:.1f} °C<extra></extra>",
        )
    )
    return styled(fig, f"Temperature of {device}", "Time (UTC)", "Temperature (°C)")


def latency(history: pd.DataFrame, device: str) -> go.Figure:
    """Inference latency percentiles over time, in milliseconds."""
    fig = go.Figure()
    for column, label, dash in (
        ("latency_p50_ms", "p50", "solid"),
        ("latency_p95_ms", "p95", "dash"),
        ("latency_p99_ms", "p99", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=history["received_at"],
                y=history[column],
                mode="lines",
                name=label,
                line=dict(color=ACCENT, dash=dash),
                hovertemplate=f"{label} %{{y:.1f}} ms<extra></extra>",
            )
        )
    styled(fig, f"Inference latency of {device}", "Time (UTC)", "Latency (ms)")
    fig.update_layout(showlegend=True, hovermode="x unified")
    return fig


def activity(frame: pd.DataFrame) -> go.Figure:
    """Devices reporting and devices unhealthy per hour."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=frame["hour"],
            y=frame["devices"],
            name="Reporting",
            marker_color=ACCENT,
            hovertemplate="%{y:,} devices reporting<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=frame["hour"],
            y=frame["unhealthy_devices"],
            name="Unhealthy",
            marker_color=HEALTH_COLORS[UNHEALTHY],
            hovertemplate="%{y:,} unhealthy<extra></extra>",
        )
    )
    styled(fig, "Devices reporting per hour", "Hour (UTC)", "Devices")
    fig.update_layout(showlegend=True, barmode="overlay")
    return fig

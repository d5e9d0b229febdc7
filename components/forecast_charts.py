"""Figures of the Forecasts page, built from core.forecasting results (no Streamlit here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled

BAND_95 = "rgba(47, 91, 234, 0.12)"
BAND_80 = "rgba(47, 91, 234, 0.25)"
HISTORY = "#1B2333"
WARN = "#D9480F"
MUTED = "#8A94A6"


def _axis(unit: str) -> str:
    return f"Value ({unit})" if unit else "Value"


def _band(fig: go.Figure, x, lower, upper, color: str, name: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=list(x) + list(x)[::-1],
            y=list(upper) + list(lower)[::-1],
            fill="toself",
            fillcolor=color,
            mode="lines",
            line=dict(width=0),
            hoverinfo="skip",
            name=name,
        )
    )


def fan_chart(
    history: pd.DataFrame, forecast: pd.DataFrame, *, title: str, unit: str = ""
) -> go.Figure:
    """History, forecast and its 80%/95% bands; outliers and filled periods marked.

    `history`: ds, value, outlier, filled; `forecast`: ds, yhat, lo80, hi80, lo95, hi95.
    """
    fig = go.Figure()
    _band(fig, forecast["ds"], forecast["lo95"], forecast["hi95"], BAND_95, "95% interval")
    _band(fig, forecast["ds"], forecast["lo80"], forecast["hi80"], BAND_80, "80% interval")
    fig.add_trace(
        go.Scatter(
            x=history["ds"],
            y=history["value"],
            mode="lines",
            name="History",
            line=dict(color=HISTORY, width=1.6),
        )
    )
    # Join the forecast to the last observation so the line does not jump.
    last = history.iloc[-1]
    fig.add_trace(
        go.Scatter(
            x=[last["ds"], *forecast["ds"]],
            y=[last["value"], *forecast["yhat"]],
            mode="lines+markers",
            name="Forecast",
            line=dict(color=ACCENT, width=2.2),
            marker=dict(size=5),
        )
    )
    outliers = history[history["outlier"]]
    if len(outliers):
        fig.add_trace(
            go.Scatter(
                x=outliers["ds"],
                y=outliers["value"],
                mode="markers",
                name="Outlier",
                marker=dict(color=WARN, size=9, symbol="x"),
            )
        )
    filled = history[history["filled"]]
    if len(filled):
        fig.add_trace(
            go.Scatter(
                x=filled["ds"],
                y=filled["value"],
                mode="markers",
                name="Filled gap",
                marker=dict(color=MUTED, size=7, symbol="circle-open"),
            )
        )
    styled(fig, title, "Period", _axis(unit))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=-0.2), height=420)
    return fig


def backtest_chart(
    history: pd.DataFrame, backtest: pd.DataFrame, candidate: str, *, title: str, unit: str = ""
) -> go.Figure:
    """Actual values and each fold's forecast (with its 95% band) of one candidate."""
    rows = backtest[backtest["candidate"] == candidate]
    fig = go.Figure()
    for fold, part in rows.groupby("fold"):
        if {"lo95", "hi95"} <= set(part.columns) and part["lo95"].notna().all():
            _band(fig, part["ds"], part["lo95"], part["hi95"], BAND_95, f"Fold {fold} 95%")
        fig.add_trace(
            go.Scatter(
                x=part["ds"],
                y=part["yhat"],
                mode="lines+markers",
                name=f"Fold {fold}",
                line=dict(color=ACCENT, width=1.8, dash="dot"),
                marker=dict(size=4),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=history["ds"],
            y=history["value"],
            mode="lines",
            name="Actual",
            line=dict(color=HISTORY, width=1.4),
        )
    )
    styled(fig, title, "Period", _axis(unit))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=-0.2), height=380)
    return fig


def errors_by_step(backtest: pd.DataFrame, candidate: str, *, unit: str = "") -> go.Figure:
    """Backtest errors (forecast − actual) of one candidate at each step ahead."""
    rows = backtest[backtest["candidate"] == candidate].assign(
        error=lambda d: d["yhat"] - d["actual"]
    )
    fig = go.Figure(
        go.Box(
            x=rows["step"],
            y=rows["error"],
            boxpoints="all",
            jitter=0.3,
            marker=dict(color=ACCENT, size=5),
            line=dict(color=ACCENT),
            name="Error",
        )
    )
    fig.add_hline(y=0, line=dict(color=MUTED, dash="dash"))
    axis = f"Forecast − actual ({unit})" if unit else "Forecast − actual"
    return styled(fig, "Backtest errors by step ahead", "Steps ahead (periods)", axis)


def residual_histogram(backtest: pd.DataFrame, candidate: str, *, unit: str = "") -> go.Figure:
    """Distribution of backtest errors of one candidate (centred on 0 when unbiased)."""
    rows = backtest[backtest["candidate"] == candidate]
    errors = (rows["yhat"] - rows["actual"]).to_numpy()
    fig = go.Figure(
        go.Histogram(x=errors, marker_color=ACCENT, nbinsx=min(30, max(5, len(errors))))
    )
    fig.add_vline(x=0, line=dict(color=MUTED, dash="dash"))
    axis = f"Forecast − actual ({unit})" if unit else "Forecast − actual"
    return styled(fig, "Distribution of backtest errors", axis, "Count")


def leaderboard_chart(leaderboard: pd.DataFrame, *, measure: str = "OWA") -> go.Figure:
    """Horizontal bars of each candidate's backtest score, best at the top, choice highlighted."""
    board = leaderboard[np.isfinite(leaderboard["score"])].iloc[::-1]
    colors = [ACCENT if chosen else MUTED for chosen in board["chosen"]]
    fig = go.Figure(
        go.Bar(
            x=board["score"],
            y=board["label"],
            orientation="h",
            marker_color=colors,
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    if measure.startswith("OWA"):
        fig.add_vline(x=1.0, line=dict(color=MUTED, dash="dash"))
    fig.update_yaxes(type="category")
    fig.update_layout(height=max(300, 26 * len(board) + 80))
    return styled(fig, "Backtest leaderboard (lower is better)", measure, "Model or combination")

"""Plotly figures of the copy studio: variant scores, experiment rates, usage, library mix.

Plain functions (no Streamlit), so tests check the figures themselves.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled
from core.copy.experiments import METRICS, ExperimentResult

MUTED = "#9AA5B8"
WINNER = "#1E9E6A"


def variant_grades(frame: pd.DataFrame, target: float | None = None) -> go.Figure:
    """Bars of each variant's Flesch-Kincaid grade, with the voice's target as a line.

    `frame` has columns variant (label) and grade.
    """
    fig = go.Figure(
        go.Bar(
            x=frame["variant"],
            y=frame["grade"],
            marker_color=ACCENT,
            hovertemplate="%{x}<br>grade %{y:.1f}<extra></extra>",
        )
    )
    if target is not None:
        fig.add_hline(
            y=target,
            line_dash="dash",
            line_color=MUTED,
            annotation_text=f"voice target {target:g}",
            annotation_position="top left",
        )
    fig.update_xaxes(type="category")
    return styled(fig, "Reading grade by variant", "Variant", "Flesch-Kincaid grade (school years)")


def experiment_rates(result: ExperimentResult) -> go.Figure:
    """Each variant's rate with its 95% interval; the winner (if any) in green."""
    arms = [a for a in result.arms if a.rate is not None]
    rates = [100 * a.rate for a in arms]
    fig = go.Figure(
        go.Bar(
            x=[a.label for a in arms],
            y=rates,
            marker_color=[WINNER if a.label == result.winner else ACCENT for a in arms],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[100 * a.ci_high - r for a, r in zip(arms, rates, strict=True)],
                arrayminus=[r - 100 * a.ci_low for a, r in zip(arms, rates, strict=True)],
                color=MUTED,
            ),
            customdata=[[a.successes, a.trials, 100 * (a.probability_best or 0.0)] for a in arms],
            hovertemplate=(
                "%{x}<br>%{y:.2f}% (%{customdata[0]:,} of %{customdata[1]:,})"
                "<br>P(best) %{customdata[2]:.1f}%<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(type="category")
    name = METRICS[result.metric].label.split(" (")[0]
    return styled(fig, f"{name} by variant, with 95% intervals", "Variant", f"{name} (%)")


def daily_generations(daily: pd.DataFrame) -> go.Figure:
    """Generations per day (columns day, generations, failures)."""
    ok = daily["generations"] - daily["failures"]
    fig = go.Figure(
        [
            go.Bar(x=daily["day"], y=ok, name="Succeeded", marker_color=ACCENT),
            go.Bar(x=daily["day"], y=daily["failures"], name="Failed", marker_color="#D9534F"),
        ]
    )
    fig = styled(fig, "Copy generations per day", "Day", "Generations")
    fig.update_layout(barmode="stack", showlegend=True)
    return fig


def library_mix(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of library items per content type (columns type, items)."""
    ordered = frame.sort_values("items")
    fig = go.Figure(
        go.Bar(
            x=ordered["items"],
            y=ordered["type"],
            orientation="h",
            marker_color=ACCENT,
            hovertemplate="%{y}<br>%{x:,} items<extra></extra>",
        )
    )
    fig.update_yaxes(type="category")
    return styled(fig, "Library items by content type", "Items", "Content type")

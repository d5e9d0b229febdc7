"""Plotly figures for the Supply chain page: risk heat map, supplier trend, carbon, simulation."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.charts import ACCENT, styled


def _text(value: str) -> str:
    # Plotly renders some HTML in labels (<b>, <a href>): data from users is escaped.
    return html.escape(str(value))


HEAT = [[0.0, "#F4F6FB"], [0.35, "#F6D58E"], [0.7, "#EE8A5A"], [1.0, "#C2362B"]]


def risk_heatmap(cells: pd.DataFrame) -> go.Figure:
    """Likelihood (rows) x impact (columns), coloured by risk level, labelled with counts."""
    grid = cells.pivot(index="likelihood", columns="impact", values="risks").reindex(
        index=range(1, 6), columns=range(1, 6), fill_value=0
    )
    level = np.outer(np.arange(1, 6), np.arange(1, 6))  # likelihood x impact
    text = [[str(v) if v else "" for v in row] for row in grid.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=level,
            x=list(range(1, 6)),
            y=list(range(1, 6)),
            colorscale=HEAT,
            zmin=1,
            zmax=25,
            showscale=False,
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=16),
            customdata=grid.to_numpy(),
            hovertemplate="Likelihood %{y}, impact %{x}<br>%{customdata} risk(s)<extra></extra>",
            xgap=3,
            ygap=3,
        )
    )
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(dtick=1)
    return styled(fig, "Risks by likelihood and impact", "Impact (1-5)", "Likelihood (1-5)")


TREND_MEASURES = {
    "on_time": ("On-time deliveries per quarter", "On time (%)", 100.0, "%{y:.0f}% on time"),
    "lead_time_mean": ("Mean lead time per quarter", "Lead time (days)", 1.0, "%{y:.1f} days"),
}


def supplier_trend(
    trend: pd.DataFrame, names: dict[str, str], measure: str = "on_time"
) -> go.Figure:
    """One line per supplier of a quarterly measure (on-time share or mean lead time)."""
    title, axis, scale, hover = TREND_MEASURES[measure]
    fig = go.Figure()
    for supplier, rows in trend.groupby("supplier_id"):
        fig.add_trace(
            go.Scatter(
                x=rows["quarter"],
                y=rows[measure] * scale,
                mode="lines+markers",
                name=_text(names.get(str(supplier), str(supplier))),
                hovertemplate=f"%{{x|%Y Q%q}}: {hover}<extra>%{{fullData.name}}</extra>",
            )
        )
    fig = styled(fig, title, "Quarter received", axis)
    fig.update_layout(showlegend=True)
    return fig


def carbon_by_lane(lanes: pd.DataFrame, names: dict[str, str], top: int = 15) -> go.Figure:
    """Horizontal bars of tonnes CO2e for the largest lanes."""
    head = lanes.head(top).iloc[::-1]
    labels = [
        f"{_text(names.get(s, s))} · {m}"
        for s, m in zip(head["supplier_id"], head["mode"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=head["kg_co2e"] / 1000,
            y=labels,
            orientation="h",
            marker_color=ACCENT,
            hovertemplate="%{y}<br>%{x:,.1f} t CO2e<extra></extra>",
        )
    )
    fig.update_yaxes(type="category")
    return styled(fig, f"Emissions of the {len(head)} largest lanes", "t CO2e", "Lane")


def stock_histogram(counts: np.ndarray, edges: np.ndarray, reorder_point: float) -> go.Figure:
    """Simulated net stock at period ends (negative: backorders), reorder point marked."""
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=counts,
            width=np.diff(edges),
            marker_color=ACCENT,
            hovertemplate="%{x:,.0f} units<br>%{y:,} period ends<extra></extra>",
        )
    )
    fig.add_vline(x=reorder_point, line_dash="dash", annotation_text="reorder point")
    fig.add_vline(
        x=0, line_color="#C2362B", annotation_text="stock-out", annotation_position="top left"
    )
    return styled(fig, "Simulated net stock at period ends", "Net stock (units)", "Period ends")

"""Plotly figures of the Segments page, built from core.segmentation results (no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from components.charts import ACCENT, styled

SEQUENTIAL = "Blues"
PALETTE = px.colors.qualitative.Safe


def treemap(summary: pd.DataFrame) -> go.Figure:
    """RFM segments sized by customers, coloured by share of revenue."""
    frame = summary[summary["customers"] > 0].assign(revenue_pct=lambda d: d["revenue_share"] * 100)
    fig = px.treemap(
        frame,
        path=[px.Constant("All customers"), "segment"],
        values="customers",
        color="revenue_pct",
        color_continuous_scale=SEQUENTIAL,
        custom_data=["share", "revenue_share", "recency_days", "frequency", "monetary"],
    )
    fig.update_traces(
        texttemplate="%{label}<br>%{value:,} customers",
        hovertemplate=(
            "%{label}<br>%{value:,} customers (%{customdata[0]:.1%})"
            "<br>%{customdata[1]:.1%} of revenue<br>mean recency %{customdata[2]:.0f} days"
            "<br>mean orders %{customdata[3]:.1f}"
            "<br>mean spend %{customdata[4]:,.2f}<extra></extra>"
        ),
    )
    fig = styled(fig, "Customers by RFM segment (colour: % of revenue)", "", "")
    fig.update_layout(height=420, coloraxis_colorbar=dict(title="% of revenue"))
    return fig


def rf_grid(grid_names: pd.DataFrame, scored: pd.DataFrame) -> go.Figure:
    """The recency x frequency grid: customers per cell, labelled with the cell's segment."""
    counts = pd.crosstab(scored["r_score"], scored["f_score"]).reindex(
        index=grid_names.index, columns=grid_names.columns, fill_value=0
    )
    text = [
        [f"{grid_names.loc[r, f]}<br>{counts.loc[r, f]:,}" for f in grid_names.columns]
        for r in grid_names.index
    ]
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[f"F {f}" for f in grid_names.columns],
            y=[f"R {r}" for r in grid_names.index],
            text=text,
            texttemplate="%{text}",
            colorscale=SEQUENTIAL,
            hovertemplate="%{y}, %{x}<br>%{text}<extra></extra>",
            colorbar=dict(title="Customers"),
        )
    )
    fig = styled(
        fig,
        "Segment rules on the recency x frequency grid",
        "Frequency score (1-5)",
        "Recency score (1-5)",
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=460)
    return fig


def k_curves(
    scan: pd.DataFrame, criterion: str, best_k: int, chosen_k: int
) -> tuple[go.Figure, go.Figure]:
    """Silhouette by k and the algorithm's criterion (inertia or BIC) by k, chosen k marked."""
    sil = go.Figure(
        go.Scatter(
            x=scan["k"],
            y=scan["silhouette"],
            mode="lines+markers",
            line_color=ACCENT,
            hovertemplate="k=%{x}<br>silhouette %{y:.3f}<extra></extra>",
        )
    )
    crit = go.Figure(
        go.Scatter(
            x=scan["k"],
            y=scan["criterion"],
            mode="lines+markers",
            line_color=ACCENT,
            hovertemplate=f"k=%{{x}}<br>{criterion} %{{y:,.1f}}<extra></extra>",
        )
    )
    for fig in (sil, crit):
        fig.add_vrect(x0=2.5, x1=8.5, fillcolor="#E8EEFD", opacity=0.5, line_width=0, layer="below")
        fig.add_vline(x=chosen_k, line_dash="dash", line_color="#C0392B")
        if best_k != chosen_k:
            fig.add_vline(x=best_k, line_dash="dot", line_color="#7F8C8D")
    styled(
        sil,
        "Silhouette by k (higher is better; shaded: default range 3-8)",
        "Clusters (k)",
        "Mean silhouette (-1 to 1)",
    )
    styled(
        crit,
        f"{criterion} by k",
        "Clusters (k)",
        "Inertia (sum of squared distances)" if criterion == "inertia" else "BIC (lower is better)",
    )
    for fig in (sil, crit):
        fig.update_xaxes(dtick=1)
    return sil, crit


def cluster_scatter(sample: pd.DataFrame, three_d: bool = False) -> go.Figure:
    """Customers (a sample) by recency, orders and spend, coloured by cluster name."""
    frame = sample.assign(
        cluster_label=lambda d: d["cluster"].astype(str) + ". " + d["cluster_name"]
    )
    labels = {
        "recency_days": "Recency (days)",
        "orders": "Orders",
        "monetary": "Spend (currency)",
        "cluster_label": "Cluster",
    }
    order = sorted(frame["cluster_label"].unique(), key=lambda s: int(s.split(".")[0]))
    common = dict(
        color="cluster_label",
        labels=labels,
        hover_data=["customer_id"],
        color_discrete_sequence=PALETTE,
        category_orders={"cluster_label": order},
    )
    if three_d:
        fig = px.scatter_3d(
            frame, x="recency_days", y="orders", z="monetary", log_y=True, log_z=True, **common
        )
        fig.update_traces(marker_size=2)
        fig.update_layout(scene=dict(yaxis_type="log", zaxis_type="log"))
    else:
        fig = px.scatter(frame, x="recency_days", y="monetary", log_y=True, opacity=0.6, **common)
        fig.update_traces(marker_size=5)
    fig = styled(
        fig,
        f"Clusters on {len(frame):,} customers" + (" (sample)" if len(frame) >= 5_000 else ""),
        "Recency (days)",
        "Spend (currency, log scale)",
    )
    fig.update_layout(showlegend=True, height=460, legend_title_text="Cluster")
    return fig


def transition_heatmap(shares: pd.DataFrame, counts: pd.DataFrame) -> go.Figure:
    """Row shares of the transition matrix, with counts on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=shares.to_numpy() * 100,
            x=list(shares.columns),
            y=list(shares.index),
            customdata=counts.to_numpy(),
            colorscale=SEQUENTIAL,
            texttemplate="%{z:.0f}%",
            hovertemplate=(
                "%{y} → %{x}<br>%{z:.1f}% of row (%{customdata:,} customers)<extra></extra>"
            ),
            colorbar=dict(title="% of row"),
        )
    )
    fig = styled(
        fig, "Where each segment went (% of its customers)", "Segment now", "Segment before"
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=480)
    return fig


def sankey(flows: pd.DataFrame, before: str, after: str) -> go.Figure:
    """Customer flows from segments at the earlier date to segments at the later one."""
    left = list(dict.fromkeys(flows["from_segment"]))
    right = list(dict.fromkeys(flows["to_segment"]))
    labels = [f"{s} ({before})" for s in left] + [f"{s} ({after})" for s in right]
    index_left = {s: i for i, s in enumerate(left)}
    index_right = {s: len(left) + i for i, s in enumerate(right)}
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(dict.fromkeys(left + right))}
    fig = go.Figure(
        go.Sankey(
            node=dict(
                label=labels,
                pad=12,
                thickness=14,
                color=[colours[s] for s in left + right],
            ),
            link=dict(
                source=[index_left[s] for s in flows["from_segment"]],
                target=[index_right[s] for s in flows["to_segment"]],
                value=flows["customers"].tolist(),
                hovertemplate=(
                    "%{source.label} → %{target.label}<br>%{value:,} customers<extra></extra>"
                ),
            ),
        )
    )
    fig = styled(fig, f"Segment migration, {before} → {after} (customers)", "", "")
    fig.update_layout(height=560)
    return fig


def clv_by_segment(frame: pd.DataFrame, horizon_label: str) -> go.Figure:
    """Expected value over the horizon per RFM segment (bars)."""
    fig = px.bar(
        frame,
        x="segment",
        y="clv",
        color_discrete_sequence=[ACCENT],
        custom_data=["customers", "mean_clv", "mean_p_alive"],
    )
    fig.update_traces(
        hovertemplate=(
            "%{x}<br>%{y:,.0f} expected<br>%{customdata[0]:,} customers"
            "<br>%{customdata[1]:,.2f} per customer"
            "<br>mean P(alive) %{customdata[2]:.0%}<extra></extra>"
        )
    )
    return styled(
        fig,
        f"Expected value of purchases in the next {horizon_label}, by segment",
        "RFM segment",
        "Expected value (currency)",
    )


def p_alive_histogram(p_alive: np.ndarray) -> go.Figure:
    """How many customers are probably still active."""
    fig = go.Figure(
        go.Histogram(
            x=np.asarray(p_alive) * 100,
            xbins=dict(start=0, end=100, size=5),
            marker_color=ACCENT,
            hovertemplate="%{x}%<br>%{y:,} customers<extra></extra>",
        )
    )
    return styled(
        fig, "P(alive): chance each customer is still active", "P(alive) (%)", "Customers"
    )

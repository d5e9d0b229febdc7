"""Drawings of workflows: the step graph (Graphviz DOT) and the run history (Plotly).

Plain functions over plain data, so tests check the output without Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.charts import styled

STATUS_COLORS = {
    "succeeded": "#2E9E5B",
    "failed": "#D64545",
    "running": "#2F5BEA",
    "ready": "#8AA4F5",
    "queued": "#8AA4F5",
    "pending": "#C9CED6",
    "skipped": "#A7ADB7",
    "upstream_failed": "#E8A0A0",
    "cancelled": "#7A808A",
}


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(step: Mapping[str, Any], status: str | None, labels: Mapping[str, str]) -> str:
    sid = str(step.get("id", "?"))
    kind = labels.get(str(step.get("type", "")), str(step.get("type", "")))
    label = f"{sid}\n{kind}" + (f"\n{status.replace('_', ' ')}" if status else "")
    fill = STATUS_COLORS.get(status or "", "#FFFFFF")
    font = "white" if status in ("succeeded", "failed", "running", "cancelled") else "#1B2333"
    return (
        f"  {_quote('s:' + sid)} [label={_quote(label)}, fillcolor={_quote(fill)}, "
        f"fontcolor={_quote(font)}]"
    )


def _edges(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    ids = {str(s.get("id")) for s in steps}
    lines = []
    for step in steps:
        sid = str(step.get("id"))
        conditional = bool(step.get("when"))
        for upstream in step.get("depends_on") or []:
            if str(upstream) in ids:
                style = ' [style=dashed, label="when"]' if conditional else ""
                lines.append(f"  {_quote('s:' + str(upstream))} -> {_quote('s:' + sid)}{style}")
    return lines


def dag_dot(
    definition: Mapping[str, Any],
    statuses: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Graphviz DOT of a definition's steps (and on-failure steps), coloured by status."""
    statuses, labels = statuses or {}, labels or {}
    steps = [s for s in definition.get("steps") or [] if isinstance(s, Mapping)]
    rescue = [s for s in definition.get("on_failure") or [] if isinstance(s, Mapping)]
    lines = [
        "digraph workflow {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11];',
        '  edge [color="#7A808A", fontname="sans-serif", fontsize=9];',
    ]
    lines += [_node(s, statuses.get(str(s.get("id"))), labels) for s in steps]
    lines += _edges(steps)
    if rescue:
        lines += [
            "  subgraph cluster_on_failure {",
            '    label="on failure"; style=dashed; color="#D64545"; fontname="sans-serif";',
        ]
        lines += ["  " + _node(s, statuses.get(str(s.get("id"))), labels) for s in rescue]
        lines += ["  " + e for e in _edges(rescue)]
        lines.append("  }")
    if not steps:
        lines.append('  empty [label="No steps yet", shape=plaintext, style=""];')
    lines.append("}")
    return "\n".join(lines)


def runs_frame(runs: Sequence[Any]) -> pd.DataFrame:
    """Runs as a table: id, status, trigger, started, duration (s), steps, error."""
    return pd.DataFrame(
        {
            "run": [r.id for r in runs],
            "status": [r.status for r in runs],
            "trigger": [r.trigger for r in runs],
            "version": [r.version for r in runs],
            "created": [r.created_at for r in runs],
            "started": [r.started_at for r in runs],
            "duration_s": [
                round(r.duration_seconds, 2) if r.duration_seconds is not None else None
                for r in runs
            ],
            "steps": [f"{r.steps_done}/{r.steps_total}" for r in runs],
            "error": [r.error for r in runs],
        }
    )


def runs_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    """Each run as a dot: when it started and how long it took, coloured by status."""
    fig = go.Figure()
    for status, group in frame.dropna(subset=["started"]).groupby("status", sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["started"],
                y=group["duration_s"],
                mode="markers",
                name=str(status),
                marker=dict(color=STATUS_COLORS.get(str(status), "#2F5BEA"), size=9),
                customdata=group[["run", "trigger", "steps"]],
                hovertemplate="run %{customdata[0]} (%{customdata[1]})<br>%{x}<br>"
                "%{y:.2f} s · steps %{customdata[2]}<extra>" + str(status) + "</extra>",
            )
        )
    styled(fig, title, "Started (UTC)", "Duration (s)")
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=-0.2))
    return fig

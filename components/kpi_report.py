"""The one-click report: the whole KPI dashboard as one self-contained HTML file."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from core.kpis.dashboard import Cards, format_change, format_value

STYLE = """
body{font-family:sans-serif;color:#1B2333;max-width:1100px;margin:2rem auto;padding:0 1rem}
h1{margin-bottom:.2rem} .muted{color:#5A6478} table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #D8DDE6;padding:.35rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left} .bad{color:#C92A2A} .good{color:#2B8A3E}
"""


def _cards_table(cards: Cards) -> str:
    heads = "".join(
        f"<th>vs {html.escape(c.label)}<br><span class='muted'>"
        f"{html.escape(c.window.describe())}</span></th>"
        for c in cards.comparisons
    )
    rows = []
    for card in cards.cards:
        cells = []
        for delta in card.deltas:
            text = format_change(card.metric, delta) or "–"
            better = (
                (delta.change > 0) != card.metric.up_is_bad
                if delta.change == delta.change
                else None
            )
            cls = "" if better is None or delta.change == 0 else ("good" if better else "bad")
            cells.append(
                f"<td class='{cls}'>{html.escape(text)}<br><span class='muted'>"
                f"{html.escape(format_value(card.metric, delta.before))}</span></td>"
            )
        rows.append(
            f"<tr><td>{html.escape(card.metric.label)}</td>"
            f"<td><b>{html.escape(format_value(card.metric, card.value))}</b></td>"
            f"{''.join(cells)}</tr>"
        )
    return (
        f"<table><tr><th>Metric</th><th>{html.escape(cards.window.describe())}</th>{heads}</tr>"
        f"{''.join(rows)}</table>"
    )


def build(
    title: str,
    subtitle: str,
    cards: Cards,
    figures: list[go.Figure],
    tables: dict[str, pd.DataFrame],
    notes: list[str] = (),
) -> bytes:
    """A standalone HTML page: cards, charts (plotly.js inlined once) and tables."""
    charts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_height="380px")
        for i, fig in enumerate(figures)
    ]
    table_html = "".join(
        f"<h2>{html.escape(name)}</h2>{frame.to_html(index=False, escape=True, na_rep='–')}"
        for name, frame in tables.items()
    )
    note_html = "".join(f"<p class='muted'>{html.escape(n)}</p>" for n in notes)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1><p class="muted">{html.escape(subtitle)}</p>
<p class="muted">Generated {datetime.now():%Y-%m-%d %H:%M} by Beacon.</p>
{note_html}{_cards_table(cards)}{"".join(charts)}{table_html}
</body></html>"""
    return page.encode("utf-8")

"""The KPI page's query set as plain functions: cards with comparisons, series with
anomaly bands, and the metric formatting every front end shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from core.kpis import anomalies, grains
from core.kpis.base import Filters
from core.kpis.metrics import COUNT, CURRENCY, PERCENT, Metric
from core.kpis.periods import Comparison, Window, comparisons
from core.kpis.queries import series, totals
from core.kpis.source import KpiSource, Runner


@dataclass(frozen=True, slots=True)
class Delta:
    """A metric's change against one comparison window."""

    comparison: Comparison
    before: float
    change: float  # current - before (NaN when either is missing)
    pct: float  # change / |before| (NaN when before is 0 or missing)


@dataclass(frozen=True, slots=True)
class Card:
    """One metric card: the value over the window and its deltas."""

    metric: Metric
    value: float
    deltas: tuple[Delta, ...]


@dataclass(frozen=True, slots=True)
class Cards:
    """Every card of the page, the window and the comparisons they use."""

    window: Window
    comparisons: tuple[Comparison, ...]
    cards: tuple[Card, ...]
    rows: int


def _delta(comparison: Comparison, value: float, before: float) -> Delta:
    change = value - before if not (math.isnan(value) or math.isnan(before)) else math.nan
    pct = change / abs(before) if before and not math.isnan(change) else math.nan
    return Delta(comparison, before, change, pct)


def cards(
    runner: Runner,
    source: KpiSource,
    metrics: Sequence[Metric],
    preset: str,
    window: Window,
    filters: Filters = (),
) -> Cards:
    """Each metric over the window, vs the previous period and the same period last year."""
    compared = comparisons(preset, window)
    frame = totals(runner, source, metrics, card_windows(preset, window), filters)
    return cards_from(frame, metrics, window, compared)


def card_windows(preset: str, window: Window) -> dict[str, Window]:
    """The windows the cards query: current, previous, last_year."""
    return {"current": window} | {c.key: c.window for c in comparisons(preset, window)}


def cards_from(
    frame: pd.DataFrame,
    metrics: Sequence[Metric],
    window: Window,
    compared: Sequence[Comparison],
) -> Cards:
    """Cards from a `totals` frame indexed by current / previous / last_year."""
    built = tuple(
        Card(
            metric,
            float(frame.loc["current", metric.key]),
            tuple(
                _delta(
                    c, float(frame.loc["current", metric.key]), float(frame.loc[c.key, metric.key])
                )
                for c in compared
            ),
        )
        for metric in metrics
    )
    return Cards(window, tuple(compared), built, int(frame.loc["current", "rows"]))


def series_range(grain: str, window: Window) -> Window:
    """Whole periods covering the window, plus the history the anomaly band needs."""
    first = grains.step(grains.truncate(window.start, grain), grain, -anomalies.lookback(grain))
    return Window(first, window.end)


def series_with_bands(
    runner: Runner,
    source: KpiSource,
    metrics: Sequence[Metric],
    grain: str,
    window: Window,
    filters: Filters = (),
) -> pd.DataFrame:
    """Per-period values of each metric over whole periods covering the window.

    Columns of `series` (period, label, partial, rows_present, one per metric), plus
    `period_end` (the period's last day), and per metric `<key>__expected`,
    `__lower`, `__upper`, `__anomaly`, `__reason`. History before the window only
    feeds the bands and is dropped.
    """
    frame = series(runner, source, metrics, grain, series_range(grain, window), filters)
    for metric in metrics:
        band = anomalies.bands(
            frame[metric.key],
            grain,
            frame["partial"].tolist(),
            label=metric.label,
            fmt=lambda v, m=metric: format_value(m, v),
        )
        for column in ("expected", "lower", "upper", "anomaly", "reason"):
            frame[f"{metric.key}__{column}"] = band[column].to_numpy()
    frame["period_end"] = [grains.step(p, grain) - timedelta(days=1) for p in frame["period"]]
    shown = frame["period_end"] >= window.start
    return frame[shown].reset_index(drop=True)


def format_value(metric: Metric, value: float | None) -> str:
    """A metric value as people read it: 1,234,567 · 12.3% · 1,234.50."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric.unit == PERCENT:
        return f"{value:.1%}"
    if metric.unit == COUNT:
        return f"{value:,.0f}"
    if metric.unit == CURRENCY:
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def format_change(metric: Metric, delta: Delta) -> str:
    """'+12.3%' for most metrics, '+1.2 pp' for percentages; '' when not comparable."""
    if metric.unit == PERCENT:
        return "" if math.isnan(delta.change) else f"{delta.change * 100:+.1f} pp"
    return "" if math.isnan(delta.pct) else f"{delta.pct:+.1%}"


def describe_card(card: Card) -> str:
    """The card's definition and every comparison, spelled out (a card's help text)."""
    parts = [f"{card.metric.help}." if card.metric.help else ""]
    for delta in card.deltas:
        change = format_change(card.metric, delta)
        parts.append(
            f"{delta.comparison.label.capitalize()} ({delta.comparison.window.describe()}): "
            f"{format_value(card.metric, delta.before)}" + (f" ({change})." if change else ".")
        )
    return " ".join(p for p in parts if p)


def series_table(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """One metric's series with its band, for the table view and downloads."""
    key = metric.key
    columns = {"label": "period", "partial": "partial", key: metric.label}
    columns |= {f"{key}__{c}": c for c in ("expected", "lower", "upper", "anomaly", "reason")}
    return frame[list(columns)].rename(columns=columns)


def anomaly_table(frame: pd.DataFrame, metrics: Sequence[Metric]) -> pd.DataFrame:
    """Every flagged period of every metric: metric, period, value, expected, why."""
    rows = [
        {
            "metric": metric.label,
            "period": row["label"],
            "value": row[metric.key],
            "expected": row[f"{metric.key}__expected"],
            "why": row[f"{metric.key}__reason"],
        }
        for metric in metrics
        for row in frame.to_dict("records")
        if row[f"{metric.key}__anomaly"]
    ]
    return pd.DataFrame(rows, columns=["metric", "period", "value", "expected", "why"])

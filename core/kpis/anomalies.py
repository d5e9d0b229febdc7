"""Anomaly bands on a metric's series: a Hampel filter tuned to the grain.

The expected value of a period is the median of its neighbours of the same seasonal
phase (for days, the same weekday over the three weeks either side; for other grains,
the periods either side), and the band is that median ± 3 robust standard deviations
(1.4826 × the median absolute deviation of those neighbours). Medians ignore the outliers
they are looking for, where means and standard deviations are dragged towards them.
The spread is floored at 5% of the expected value, so a near-constant series does not
flag tiny wobbles. Partial periods (cut by the window) and periods with too few
neighbours get no band and are never flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAD_TO_SD = 1.4826  # the MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True, slots=True)
class BandRule:
    """Neighbourhood of a grain: same-phase step, points either side, threshold."""

    season: int
    half_window: int
    describe: str
    k: float = 3.0
    min_points: int = 5
    floor: float = 0.05


RULES: dict[str, BandRule] = {
    "day": BandRule(7, 3, "the same weekday in the 3 weeks either side"),
    "week": BandRule(1, 4, "the 4 weeks either side"),
    "month": BandRule(1, 3, "the 3 months either side"),
    "quarter": BandRule(1, 3, "the 3 quarters either side"),
    "year": BandRule(1, 3, "the 3 years either side"),
}


def lookback(grain: str) -> int:
    """Periods of history before a window that the band of its first period needs."""
    rule = RULES[grain]
    return rule.season * rule.half_window


def bands(
    values: pd.Series | Sequence[float],
    grain: str,
    partial: Sequence[bool] | None = None,
    *,
    label: str = "Value",
    fmt: Callable[[float], str] = lambda v: f"{v:,.2f}",
) -> pd.DataFrame:
    """Expected value, band and flag per point.

    Columns: expected, lower, upper, score (robust z), anomaly (bool), reason (one line
    for flagged points, else "").
    """
    rule = RULES[grain]
    y = np.asarray(pd.Series(values, dtype="float64"), dtype="float64")
    n = len(y)
    cut = np.zeros(n, dtype=bool) if partial is None else np.asarray(partial, dtype=bool)
    expected = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    for i in range(n):
        if cut[i]:
            continue
        idx = [i + j * rule.season for j in range(-rule.half_window, rule.half_window + 1)]
        neighbours = np.array([y[k] for k in idx if 0 <= k < n and not cut[k]])
        neighbours = neighbours[~np.isnan(neighbours)]
        if len(neighbours) < rule.min_points:
            continue
        median = float(np.median(neighbours))
        mad = float(np.median(np.abs(neighbours - median)))
        expected[i] = median
        scale[i] = max(MAD_TO_SD * mad, rule.floor * abs(median), 1e-9)
    score = (y - expected) / scale
    anomaly = np.abs(np.nan_to_num(score, nan=0.0)) > rule.k
    reasons = [
        (
            f"{label} {fmt(y[i])} is {abs(score[i]):.1f} robust SDs "
            f"{'above' if score[i] > 0 else 'below'} the expected {fmt(expected[i])} "
            f"(median of {rule.describe})"
        )
        if anomaly[i]
        else ""
        for i in range(n)
    ]
    return pd.DataFrame(
        {
            "expected": expected,
            "lower": expected - rule.k * scale,
            "upper": expected + rule.k * scale,
            "score": score,
            "anomaly": anomaly,
            "reason": reasons,
        },
        index=pd.Series(values).index if isinstance(values, pd.Series) else None,
    )

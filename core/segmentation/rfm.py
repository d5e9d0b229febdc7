"""RFM scores: recency, frequency and monetary value scored 1-5 by rank-based quintiles.

Each metric is ranked over all customers and the ranks are cut into five equal groups,
so every score holds a fifth of the customers (to within one). Ties are broken on rank:
most customers often share the same small order count, and value quintiles would then
have duplicate edges. Among customers with the same value, the order is a fixed
pseudo-random one (a hash of the customer ID): it favours neither old nor new IDs, and a
customer keeps their place among equals from one as-of date to the next. Customers with
the same value can therefore land in adjacent scores; `score_edges` shows each score's
value range so the page can say so. Recency is reversed: the most recent fifth scores 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SCORES = 5
METRICS = {"r": "recency_days", "f": "orders", "m": "monetary"}


def tie_breaker(customer_ids: pd.Series | np.ndarray) -> np.ndarray:
    """A fixed pseudo-random order of customer IDs (the same on every run and date)."""
    return pd.util.hash_array(np.asarray(customer_ids, dtype=object).astype(str).astype(object))


def quintile_scores(
    values: np.ndarray | pd.Series,
    tiebreak: np.ndarray | None = None,
    *,
    higher_is_better: bool = True,
) -> np.ndarray:
    """Scores 1-5 by rank; equal values are ordered by `tiebreak` (else by position)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    keys = values if higher_is_better else -values
    tiebreak = np.arange(n) if tiebreak is None else np.asarray(tiebreak)
    order = np.lexsort((tiebreak, keys))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n)
    return (ranks * SCORES // n + 1).astype(np.int8)


@dataclass(frozen=True, slots=True)
class RfmScores:
    """Per-customer scores (columns r_score, f_score, m_score, rfm) and each score's range."""

    scores: pd.DataFrame
    edges: pd.DataFrame


def score(customers: pd.DataFrame) -> RfmScores:
    """Add r_score, f_score, m_score and the 'rfm' code (e.g. '545') to a customer table."""
    out = customers.copy()
    ties = tie_breaker(out["customer_id"])
    out["r_score"] = quintile_scores(out["recency_days"], ties, higher_is_better=False)
    out["f_score"] = quintile_scores(out["orders"], ties)
    out["m_score"] = quintile_scores(out["monetary"], ties)
    out["rfm"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    return RfmScores(out, score_edges(out))


def score_edges(scored: pd.DataFrame) -> pd.DataFrame:
    """Per metric and score: customers, lowest and highest value (to show tie-breaking)."""
    rows = []
    for letter, column in METRICS.items():
        grouped = scored.groupby(f"{letter}_score")[column].agg(["size", "min", "max"])
        for value, row in grouped.iterrows():
            rows.append(
                {
                    "metric": column,
                    "score": int(value),
                    "customers": int(row["size"]),
                    "lowest": float(row["min"]),
                    "highest": float(row["max"]),
                }
            )
    return pd.DataFrame(rows, columns=["metric", "score", "customers", "lowest", "highest"])


def shared_boundaries(edges: pd.DataFrame) -> list[str]:
    """Metrics whose neighbouring scores share a value (ties split across a boundary)."""
    split = []
    for metric, unsorted in edges.groupby("metric", sort=False):
        group = unsorted.sort_values("score")
        lows, highs = group["lowest"].to_numpy(), group["highest"].to_numpy()
        overlap = np.maximum(lows[1:], lows[:-1]) <= np.minimum(highs[1:], highs[:-1])
        if len(group) > 1 and overlap.any():
            split.append(str(metric))
    return split

"""Cluster profiles (size, mean features, revenue share) and descriptive names from them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PROFILE_COLUMNS = ("recency_days", "orders", "monetary", "revenue", "aov", "tenure_days")
STRONG = 0.5  # a cluster mean this many standard deviations from the average is notable


def order_by_value(customers: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """Relabel clusters 1..k by revenue per customer, highest first (stable across runs)."""
    per_customer = pd.Series(customers["revenue"].to_numpy(), index=labels).groupby(level=0).mean()
    ranking = per_customer.sort_values(ascending=False, kind="stable").index
    mapping = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    mapping[np.asarray(ranking, dtype=np.int64)] = np.arange(1, len(ranking) + 1)
    return mapping[labels]


def _term(z: float, low: str, high: str) -> str:
    if z <= -STRONG:
        return low
    if z >= STRONG:
        return high
    return ""


def describe(z: pd.Series, median_orders: float, mix_z: pd.Series | None = None) -> str:
    """A name from a cluster's standardised means, e.g. 'recent frequent high spenders'."""
    recency = _term(z["recency_days"], "recent", "lapsed")
    frequency = _term(z["orders"], "one-time" if median_orders <= 1 else "occasional", "frequent")
    spend = _term(z["monetary"], "low spenders", "high spenders") or "mid spenders"
    words = [w for w in (recency, frequency, spend) if w]
    if mix_z is not None and not mix_z.empty and mix_z.max() >= 1.0:
        level = str(mix_z.idxmax()).split(": ", 1)[-1]
        words.insert(0, f"{level.lower()}-leaning")
    return " ".join(words)


def profile(
    customers: pd.DataFrame,
    labels: np.ndarray,
    features: np.ndarray,
    feature_names: Sequence[str],
) -> pd.DataFrame:
    """One row per cluster: cluster, name, customers, share, revenue_share and mean features.

    Names come from the cluster's mean of each standardised (log-scaled) feature: below
    -0.5 or above +0.5 standard deviations earns a word (recent/lapsed, frequent/one-time,
    high/low spenders); names are made unique by numbering repeats.
    """
    total_revenue = float(customers["revenue"].clip(lower=0).sum()) or 1.0
    frame = customers[[c for c in PROFILE_COLUMNS if c in customers.columns]].copy()
    frame["cluster"] = labels
    grouped = frame.groupby("cluster")
    table = grouped.mean()
    table.insert(0, "customers", grouped.size())
    table.insert(1, "share", table["customers"] / len(customers))
    table.insert(2, "revenue_share", grouped["revenue"].sum().clip(lower=0) / total_revenue)
    medians = grouped["orders"].median()
    zmeans = pd.DataFrame(features, columns=list(feature_names)).groupby(labels).mean()
    mix = [c for c in feature_names if ": " in c]
    names = []
    for cluster in table.index:
        z = zmeans.loc[cluster]
        names.append(describe(z, float(medians.loc[cluster]), z[mix] if mix else None))
    table.insert(0, "name", _unique(names))
    return table.reset_index()


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return [n[:1].upper() + n[1:] for n in out]


def scatter_sample(
    customers: pd.DataFrame, labels: np.ndarray, names: dict[int, str], limit: int = 5_000
) -> pd.DataFrame:
    """At most `limit` customers (seeded sample) with R, F, M, cluster and cluster name."""
    idx = np.arange(len(customers))
    if len(idx) > limit:
        idx = np.sort(np.random.default_rng(7).choice(len(idx), limit, replace=False))
    sample = customers.iloc[idx][["customer_id", "recency_days", "orders", "monetary"]].copy()
    sample["cluster"] = labels[idx]
    sample["cluster_name"] = [names[c] for c in sample["cluster"]]
    return sample.reset_index(drop=True)

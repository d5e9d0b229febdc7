"""Choosing k in the open: silhouette and inertia/BIC for k = 2..10, default best in 3..8.

Silhouette alone often peaks at k=2 (two blobs: buyers and lapsed buyers), which is
rarely useful to a marketer, so the default is the best silhouette among k = 3..8 and
the page shows both curves, says when k=2 would have scored higher, and lets the analyst
choose any k. On large data the scan fits on a random sample and scores silhouette on a
smaller one (silhouette costs n^2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from core.errors import UserInputError
from core.segmentation.estimators import SEGMENTERS, limited_threads, make

SCAN_KS = tuple(range(2, 11))
DEFAULT_RANGE = (3, 8)
SILHOUETTE_SAMPLE = 3_000  # silhouette costs n^2: 3,000 rows score within ~0.01
FIT_SAMPLE = 200_000


@dataclass(frozen=True, slots=True)
class KScan:
    """Per k: silhouette and the algorithm's criterion; the default k and why."""

    table: pd.DataFrame  # columns: k, silhouette, criterion
    algorithm: str
    criterion: str
    best_k: int
    fit_rows: int
    silhouette_rows: int
    note: str


def sample_rows(n: int, limit: int, random_state: int) -> np.ndarray:
    """Sorted indices of a random sample of at most `limit` of `n` rows."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, limit, replace=False))


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette of a labelling (NaN when it has fewer than 2 clusters)."""
    if len(np.unique(labels)) < 2 or len(X) < 3:
        return float("nan")
    with limited_threads():
        return float(silhouette_score(X, labels))


def choose_k(
    table: pd.DataFrame, default_range: tuple[int, int] = DEFAULT_RANGE
) -> tuple[int, str]:
    """The best silhouette within `default_range` (else over all k), and a note saying why."""
    scored = table.dropna(subset=["silhouette"])
    if scored.empty:
        raise UserInputError("No k could be scored: there are too few distinct customers.")
    lo, hi = default_range
    window = scored[(scored["k"] >= lo) & (scored["k"] <= hi)]
    pool = window if not window.empty else scored
    best = pool.loc[pool["silhouette"].idxmax()]
    k = int(best["k"])
    note = f"k={k} has the best silhouette ({best['silhouette']:.2f})"
    note += f" among k={lo}..{hi}." if not window.empty else " of the k that fit these customers."
    top = scored.loc[scored["silhouette"].idxmax()]
    if int(top["k"]) != k:
        note += (
            f" k={int(top['k'])} scores higher ({top['silhouette']:.2f}) but splits customers "
            "too coarsely to act on; choose it yourself if it suits."
        )
    return k, note


def scan(
    X: np.ndarray,
    algorithm: str = "kmeans",
    ks: Sequence[int] = SCAN_KS,
    *,
    random_state: int = 0,
    fit_sample: int = FIT_SAMPLE,
    silhouette_sample: int = SILHOUETTE_SAMPLE,
    default_range: tuple[int, int] = DEFAULT_RANGE,
) -> KScan:
    """Fit each k on a sample, score silhouette on a sub-sample, and pick the default k."""
    spec = SEGMENTERS.get(algorithm)
    if spec is None:
        raise UserInputError(f"Unknown clustering algorithm {algorithm!r}.")
    distinct = len(np.unique(X, axis=0)) if len(X) <= 50_000 else len(X)
    usable = [k for k in ks if 2 <= k < min(len(X), distinct + 1)]
    if not usable:
        raise UserInputError(
            f"Clustering needs at least 3 customers with different behaviour; there are {len(X)}."
        )
    fit_idx = sample_rows(len(X), fit_sample, random_state)
    fit_rows = X[fit_idx]
    sil_idx = sample_rows(len(fit_rows), silhouette_sample, random_state + 1)
    sil_rows = fit_rows[sil_idx]
    records = []
    for k in usable:
        estimator = make(algorithm, k, random_state).fit(fit_rows)
        labels = estimator.labels_[sil_idx]
        records.append(
            {"k": k, "silhouette": silhouette(sil_rows, labels), "criterion": estimator.criterion_}
        )
    table = pd.DataFrame(records, columns=["k", "silhouette", "criterion"])
    best_k, note = choose_k(table, default_range)
    if len(fit_rows) < len(X):
        note += (
            f" Curves fitted on {len(fit_rows):,} sampled customers; silhouette on "
            f"{len(sil_rows):,}."
        )
    elif len(sil_rows) < len(X):
        note += f" Silhouette on {len(sil_rows):,} sampled customers."
    return KScan(table, algorithm, spec.criterion, best_k, len(fit_rows), len(sil_rows), note)

"""How stable clusters are: refit on bootstrap samples and compare with the adjusted Rand index.

A score near 1 means bootstrap refits put the same customers together; below ~0.6 the
clusters depend on which customers happened to be in the data, and a marketer should
not build campaigns on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score

from core.segmentation.estimators import make
from core.segmentation.k_selection import sample_rows

STABLE, SHAKY = 0.8, 0.6


@dataclass(frozen=True, slots=True)
class Stability:
    """Mean and lowest adjusted Rand index of bootstrap refits against the reference fit."""

    score: float
    lowest: float
    runs: int
    rows: int

    @property
    def verdict(self) -> str:
        if self.score >= STABLE:
            return "stable"
        if self.score >= SHAKY:
            return "moderately stable"
        return "unstable"


def bootstrap(
    X: np.ndarray,
    algorithm: str,
    k: int,
    *,
    runs: int = 8,
    sample: int = 5_000,
    random_state: int = 0,
) -> Stability:
    """Refit on `runs` bootstrap resamples of a sample; ARI of each against the reference."""
    rows = X[sample_rows(len(X), sample, random_state + 2)]
    reference = make(algorithm, k, random_state).fit(rows).predict(rows)
    rng = np.random.default_rng(random_state + 3)
    scores = []
    for run in range(runs):
        resample = rows[rng.integers(0, len(rows), len(rows))]
        if len(np.unique(resample, axis=0)) <= k:
            continue
        refit = make(algorithm, k, random_state + run + 1).fit(resample)
        scores.append(adjusted_rand_score(reference, refit.predict(rows)))
    if not scores:
        return Stability(float("nan"), float("nan"), 0, len(rows))
    return Stability(float(np.mean(scores)), float(np.min(scores)), len(scores), len(rows))

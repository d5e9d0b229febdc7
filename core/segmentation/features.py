"""The clustering feature matrix: log1p-scaled, standardised R, F, M plus optional extras."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserInputError

BASE_FEATURES = ("recency_days", "orders", "monetary")
EXTRA_FEATURES = {
    "tenure_days": "Tenure (days since first purchase)",
    "aov": "Average order value",
    "category mix": "Share of spend per category",
    "channel mix": "Share of spend per channel",
}
LOG_SCALED = frozenset({"recency_days", "orders", "monetary", "tenure_days", "aov"})


@dataclass(frozen=True, slots=True)
class FeatureMatrix:
    """Standardised features (rows follow the customer table) and how they were made."""

    values: np.ndarray
    names: tuple[str, ...]
    means: np.ndarray
    stds: np.ndarray


def feature_columns(extras: Sequence[str], mix_columns: Sequence[str]) -> list[str]:
    """Customer-table columns for the base features plus the chosen extras."""
    unknown = [e for e in extras if e not in EXTRA_FEATURES]
    if unknown:
        raise UserInputError(
            f"Unknown extra feature {unknown[0]!r}: choose from {', '.join(EXTRA_FEATURES)}."
        )
    columns = list(BASE_FEATURES)
    for extra in extras:
        if extra.endswith(" mix"):
            role = extra.removesuffix(" mix")
            columns += [c for c in mix_columns if c.startswith(f"{role}: ")]
        elif extra not in columns:
            columns.append(extra)
    return columns


def build(customers: pd.DataFrame, columns: Sequence[str]) -> FeatureMatrix:
    """log1p of counts, days and money (negatives clipped to 0), then z-scores per column."""
    missing = [c for c in columns if c not in customers.columns]
    if missing:
        raise UserInputError(f"The customer table has no {missing[0]!r} column for clustering.")
    raw = np.empty((len(customers), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        values = customers[column].to_numpy(dtype=np.float64, na_value=0.0)
        raw[:, j] = np.log1p(np.clip(values, 0.0, None)) if column in LOG_SCALED else values
    means = raw.mean(axis=0)
    stds = raw.std(axis=0)
    stds[stds == 0] = 1.0  # a constant column carries no information; keep it at 0
    return FeatureMatrix((raw - means) / stds, tuple(columns), means, stds)

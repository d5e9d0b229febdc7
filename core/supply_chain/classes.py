"""ABC classes by annual value and XYZ classes by demand variability.

ABC: SKUs sorted by annual value, largest first; a SKU is A while the cumulative
share of value *before* it is under the first cut-off (80% by default), B under the
second (95%), else C. Counting the share before the SKU keeps a SKU that alone holds
most of the value in A. SKUs with no value are C.

XYZ: by the coefficient of variation of demand per period (standard deviation over
mean): X up to 0.5 (steady), Y up to 1.0, Z above (erratic); no demand at all is Z.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.errors import UserInputError

ABC_CUTOFFS = (0.80, 0.95)
XYZ_CUTOFFS = (0.5, 1.0)


def _cutoffs(cutoffs: Sequence[float], what: str, upper: float | None) -> tuple[float, float]:
    if len(cutoffs) != 2:
        raise UserInputError(f"{what} takes two cut-offs, got {len(cutoffs)}.")
    low, high = (float(c) for c in cutoffs)
    if not (0 < low < high) or (upper is not None and high > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise UserInputError(f"{what} cut-offs must be increasing, above 0{bound}.")
    return low, high


def abc_classes(values: pd.Series, cutoffs: Sequence[float] = ABC_CUTOFFS) -> pd.Series:
    """'A', 'B' or 'C' per index entry from annual values (cumulative share cut-offs)."""
    low, high = _cutoffs(cutoffs, "ABC", 1.0)
    v = pd.to_numeric(values, errors="coerce").fillna(0.0).clip(lower=0.0)
    total = float(v.sum())
    out = pd.Series("C", index=values.index, dtype=object)
    if total <= 0:
        return out
    ordered = v.sort_values(ascending=False, kind="stable")
    before = (ordered.cumsum() - ordered) / total
    labels = np.where(before < low, "A", np.where(before < high, "B", "C"))
    labels = np.where(ordered.to_numpy() > 0, labels, "C")
    out.loc[ordered.index] = labels
    return out


def xyz_classes(cv: pd.Series, cutoffs: Sequence[float] = XYZ_CUTOFFS) -> pd.Series:
    """'X', 'Y' or 'Z' per index entry from coefficients of variation (NaN is Z)."""
    low, high = _cutoffs(cutoffs, "XYZ", None)
    c = pd.to_numeric(cv, errors="coerce").to_numpy(dtype=float)
    labels = np.where(c <= low, "X", np.where(c <= high, "Y", "Z"))
    return pd.Series(labels, index=cv.index, dtype=object)

"""Segment migration between two as-of dates: who moved from Champions to At Risk.

Each date is scored on its own (quintiles of the customers known at that date), so a
customer "moves" when their behaviour changes relative to everyone else's. Customers
who had not bought yet at the earlier date come from "Not yet a customer".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from core.errors import UserInputError

NEW = "Not yet a customer"


@dataclass(frozen=True, slots=True)
class Migration:
    """Transitions between the segments at `before` and at `after`.

    matrix: customers, rows = segment at `before` (plus NEW), columns = segment at `after`;
    flows: long form (from_segment, to_segment, customers, revenue_after) without empty pairs;
    customers: customer_id, from_segment, to_segment for every customer at `after`.
    """

    before: date
    after: date
    matrix: pd.DataFrame
    flows: pd.DataFrame
    customers: pd.DataFrame

    def moved(self, from_segment: str, to_segment: str) -> pd.DataFrame:
        """Customers who were in `from_segment` and are now in `to_segment`."""
        c = self.customers
        return c[(c["from_segment"] == from_segment) & (c["to_segment"] == to_segment)]

    def stayed_share(self) -> float:
        """Share of earlier customers still in the same segment."""
        known = self.customers[self.customers["from_segment"] != NEW]
        if known.empty:
            return 0.0
        return float((known["from_segment"] == known["to_segment"]).mean())


def compare(
    before: pd.DataFrame,
    after: pd.DataFrame,
    before_date: date,
    after_date: date,
    segment_order: Sequence[str],
) -> Migration:
    """Join two segmented customer tables (customer_id, segment, revenue) on customer_id."""
    if before_date >= after_date:
        raise UserInputError(
            f"The comparison date ({before_date}) must be before the as-of date ({after_date})."
        )
    joined = after[["customer_id", "segment", "revenue"]].merge(
        before[["customer_id", "segment"]].rename(columns={"segment": "from_segment"}),
        on="customer_id",
        how="left",
    )
    joined["from_segment"] = joined["from_segment"].fillna(NEW)
    joined = joined.rename(columns={"segment": "to_segment", "revenue": "revenue_after"})
    rows = [NEW, *segment_order]
    matrix = (
        pd.crosstab(joined["from_segment"], joined["to_segment"])
        .reindex(index=rows, columns=list(segment_order), fill_value=0)
        .astype("int64")
    )
    matrix.index.name, matrix.columns.name = "from", "to"
    flows = (
        joined.groupby(["from_segment", "to_segment"], sort=False)
        .agg(customers=("customer_id", "size"), revenue_after=("revenue_after", "sum"))
        .reset_index()
    )
    rank = {name: i for i, name in enumerate(rows)}
    flows = flows.sort_values(
        ["from_segment", "to_segment"], key=lambda s: s.map(rank), kind="stable"
    ).reset_index(drop=True)
    return Migration(
        before_date,
        after_date,
        matrix,
        flows,
        joined[["customer_id", "from_segment", "to_segment"]].reset_index(drop=True),
    )


def row_shares(matrix: pd.DataFrame) -> pd.DataFrame:
    """The transition matrix as shares of each earlier segment (rows sum to 1)."""
    totals = matrix.sum(axis=1).replace(0, 1)
    return matrix.div(totals, axis=0)

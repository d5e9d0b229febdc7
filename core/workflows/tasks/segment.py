"""Segment step: RFM segments, clusters and lifetime value of a dataset's customers.

It runs core.segmentation exactly as the Segments page and `python -m core segment` do,
with the saved segment rules, and outputs the same JSON summary as the CLI.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from core.errors import UserInputError
from core.workflows.tasks.base import Params, StepContext, TaskType, register


class SegmentParams(Params):
    dataset: str = Field(title="Dataset", description="An order log with customer, date, amount")
    k: int = Field(0, ge=0, le=50, title="Clusters", description="0 chooses k by silhouette")
    as_of: str = Field("", title="As of", description="YYYY-MM-DD; empty = the last order date")
    algorithm: Literal["kmeans", "gmm"] = Field("kmeans", title="Algorithm")
    lifetime_value: bool = Field(True, title="Lifetime value (BG/NBD + Gamma-Gamma)")


def _as_of(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserInputError(f"As of takes YYYY-MM-DD, not {text!r}.") from None


def run_segment(ctx: StepContext, params: SegmentParams) -> dict[str, Any]:
    from core.segmentation.cli import payload
    from core.segmentation.orders import OrderOptions
    from core.segmentation.pipeline import SegmentationSettings, segment
    from core.segmentation.rule_store import load_rules

    if params.k == 1:
        raise UserInputError("Clusters is 0 (choose automatically) or at least 2.")
    settings = SegmentationSettings(
        orders=OrderOptions(as_of=_as_of(params.as_of)),
        algorithm=params.algorithm,
        k=params.k or None,
    )
    dataset = ctx.services.catalog.get(ctx.user, params.dataset)
    rules = load_rules(ctx.services.store, ctx.user).rules
    con = ctx.services.catalog.connect()
    try:
        result = segment(con, ctx.user, dataset, settings, rules, with_clv=params.lifetime_value)
    finally:
        con.close()
    out = payload(result)
    out.pop("k_scan", None)  # the scan is for people choosing k, not for later steps
    ctx.log(f"{out['customers']:,} customers as of {out['as_of']}; k={out['k']}")
    return out


register(
    TaskType(
        name="segment",
        label="Segment customers",
        help="RFM segments, clusters and lifetime value; outputs the segment summary.",
        params=SegmentParams,
        run=run_segment,
    )
)

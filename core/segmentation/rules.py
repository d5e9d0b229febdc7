"""Named segments: rectangles of the recency x frequency score grid, first match wins.

The standard grid (R score rows, F score columns) is the one marketers know:

    R\\F   1              2              3                 4                 5
    5     New Customers  Potential Loy. Potential Loyal.  Champions         Champions
    4     Promising      Potential Loy. Potential Loyal.  Loyal Customers   Loyal Customers
    3     About to Sleep About to Sleep Need Attention    Loyal Customers   Loyal Customers
    2     Hibernating    Hibernating    At Risk           At Risk           Can't Lose Them
    1     Hibernating    Hibernating    At Risk           At Risk           Can't Lose Them

Analysts may rename, resize, reorder, add or remove rules; a rule set must give every
one of the 25 cells a segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserInputError
from core.segmentation.rfm import SCORES

MAX_RULES = 25
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A named segment: customers with r_min <= R <= r_max and f_min <= F <= f_max."""

    name: str
    r_min: int
    r_max: int
    f_min: int
    f_max: int
    action: str = ""

    def matches(self, r: int, f: int) -> bool:
        """Whether the grid cell (r, f) falls in this rule."""
        return self.r_min <= r <= self.r_max and self.f_min <= f <= self.f_max

    @property
    def condition(self) -> str:
        """The rule as text, e.g. 'R 4-5 and F 2-3'."""

        def span(lo: int, hi: int) -> str:
            return str(lo) if lo == hi else f"{lo}-{hi}"

        return f"R {span(self.r_min, self.r_max)} and F {span(self.f_min, self.f_max)}"


STANDARD_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", 5, 5, 4, 5, "Reward them; ask for reviews; early access."),
    SegmentRule("Loyal Customers", 3, 4, 4, 5, "Upsell; loyalty programme; referrals."),
    SegmentRule("Potential Loyalists", 4, 5, 2, 3, "Membership offers; recommend more."),
    SegmentRule("New Customers", 5, 5, 1, 1, "Onboarding; a reason to come back soon."),
    SegmentRule("Promising", 4, 4, 1, 1, "Build the habit: a timely second offer."),
    SegmentRule("Need Attention", 3, 3, 3, 3, "Limited-time offers based on past buys."),
    SegmentRule("About to Sleep", 3, 3, 1, 2, "Win them back before they lapse."),
    SegmentRule("At Risk", 1, 2, 3, 4, "Personal win-back emails; renewals."),
    SegmentRule("Can't Lose Them", 1, 2, 5, 5, "Reach out personally; find out what changed."),
    SegmentRule("Hibernating", 1, 2, 1, 2, "Low-cost reactivation, or let them rest."),
)


def validate(rules: Sequence[SegmentRule]) -> tuple[SegmentRule, ...]:
    """Check a rule set (names, score ranges, every grid cell covered); returns it trimmed."""
    if not rules:
        raise UserInputError("A rule set needs at least one rule.")
    if len(rules) > MAX_RULES:
        raise UserInputError(
            f"A rule set has at most {MAX_RULES} rules; this one has {len(rules)}."
        )
    cleaned, seen = [], set()
    for position, rule in enumerate(rules, start=1):
        name = str(rule.name or "").strip()
        if not name:
            raise UserInputError(f"Rule {position} has no name: give every segment a name.")
        if len(name) > MAX_NAME:
            raise UserInputError(
                f"Segment name {name[:20]!r}… is longer than {MAX_NAME} characters."
            )
        if name.lower() in seen:
            raise UserInputError(f"Two rules are named {name!r}: segment names must differ.")
        seen.add(name.lower())
        bounds = (rule.r_min, rule.r_max, rule.f_min, rule.f_max)
        if any(not isinstance(b, int | np.integer) or not 1 <= b <= SCORES for b in bounds):
            raise UserInputError(f"Rule {name!r}: scores run from 1 to {SCORES}.")
        if rule.r_min > rule.r_max or rule.f_min > rule.f_max:
            raise UserInputError(f"Rule {name!r}: a lowest score is above its highest score.")
        cleaned.append(
            SegmentRule(name, *(int(b) for b in bounds), action=str(rule.action or "").strip())
        )
    uncovered = [f"R{r} F{f}" for r, f in _cells() if not any(x.matches(r, f) for x in cleaned)]
    if uncovered:
        raise UserInputError(
            f"No rule covers {', '.join(uncovered)}: widen a rule or add one so every "
            "recency x frequency cell has a segment."
        )
    return tuple(cleaned)


def _cells() -> Iterable[tuple[int, int]]:
    return ((r, f) for r in range(SCORES, 0, -1) for f in range(1, SCORES + 1))


def grid(rules: Sequence[SegmentRule]) -> pd.DataFrame:
    """The 5 x 5 grid of segment names: rows R 5..1, columns F 1..5 (first match wins)."""
    lookup = _lookup(rules)
    return pd.DataFrame(
        [[rules[lookup[r, f]].name for f in range(1, SCORES + 1)] for r in range(SCORES, 0, -1)],
        index=pd.Index(range(SCORES, 0, -1), name="R score"),
        columns=pd.Index(range(1, SCORES + 1), name="F score"),
    )


def shadowed(rules: Sequence[SegmentRule]) -> list[str]:
    """Rules that an earlier rule hides completely (they never match a customer)."""
    lookup = _lookup(rules)
    won = {int(i) for i in lookup[1:, 1:].ravel()}
    return [rule.name for i, rule in enumerate(rules) if i not in won]


def _lookup(rules: Sequence[SegmentRule]) -> np.ndarray:
    """(SCORES+1) x (SCORES+1) array: index of the first rule matching each (r, f) cell."""
    table = np.full((SCORES + 1, SCORES + 1), -1, dtype=np.int64)
    for r, f in _cells():
        table[r, f] = next((i for i, rule in enumerate(rules) if rule.matches(r, f)), -1)
    if (table[1:, 1:] < 0).any():
        raise UserInputError("The rule set leaves grid cells without a segment.")
    return table


def assign(r_scores: np.ndarray, f_scores: np.ndarray, rules: Sequence[SegmentRule]) -> np.ndarray:
    """Segment name per customer from R and F scores."""
    lookup = _lookup(rules)
    names = np.array([rule.name for rule in rules], dtype=object)
    return names[lookup[np.asarray(r_scores, dtype=np.int64), np.asarray(f_scores, dtype=np.int64)]]


def summary(scored: pd.DataFrame, rules: Sequence[SegmentRule]) -> pd.DataFrame:
    """Per segment (in rule order): customers, share, revenue, revenue share, mean R/F/M.

    Columns: segment, rule, customers, share, revenue, revenue_share, recency_days,
    frequency, monetary, mean_r, mean_f, mean_m, action. Empty segments are kept (0 rows).
    """
    total_customers = len(scored)
    total_revenue = float(scored["revenue"].clip(lower=0).sum()) or 1.0
    grouped = scored.groupby("segment", sort=False).agg(
        customers=("customer_id", "size"),
        revenue=("revenue", "sum"),
        recency_days=("recency_days", "mean"),
        frequency=("orders", "mean"),
        monetary=("monetary", "mean"),
        mean_r=("r_score", "mean"),
        mean_f=("f_score", "mean"),
        mean_m=("m_score", "mean"),
    )
    rows = []
    for rule in rules:
        if rule.name in grouped.index:
            g = grouped.loc[rule.name]
            values = {k: float(g[k]) for k in grouped.columns}
            values["customers"] = int(g["customers"])
        else:
            values = {k: 0.0 for k in grouped.columns} | {"customers": 0}
        rows.append(
            {
                "segment": rule.name,
                "rule": rule.condition,
                "customers": values["customers"],
                "share": values["customers"] / total_customers if total_customers else 0.0,
                "revenue": values["revenue"],
                "revenue_share": max(values["revenue"], 0.0) / total_revenue,
                "recency_days": values["recency_days"],
                "frequency": values["frequency"],
                "monetary": values["monetary"],
                "mean_r": values["mean_r"],
                "mean_f": values["mean_f"],
                "mean_m": values["mean_m"],
                "action": rule.action,
            }
        )
    return pd.DataFrame(rows)


def rules_frame(rules: Sequence[SegmentRule]) -> pd.DataFrame:
    """Rules as an editable table (columns name, r_min, r_max, f_min, f_max, action)."""
    return pd.DataFrame(
        {
            "name": [r.name for r in rules],
            "r_min": [r.r_min for r in rules],
            "r_max": [r.r_max for r in rules],
            "f_min": [r.f_min for r in rules],
            "f_max": [r.f_max for r in rules],
            "action": [r.action for r in rules],
        }
    )


def rules_from_frame(frame: pd.DataFrame) -> tuple[SegmentRule, ...]:
    """Rules from an edited table (blank rows dropped); validated."""
    rules = []
    for position, row in enumerate(frame.to_dict("records"), start=1):
        if all(pd.isna(v) or str(v).strip() == "" for v in row.values()):
            continue
        try:
            bounds = [int(row[k]) for k in ("r_min", "r_max", "f_min", "f_max")]
        except (TypeError, ValueError):
            raise UserInputError(
                f"Rule {position}: give whole-number scores from 1 to {SCORES}."
            ) from None
        name = "" if pd.isna(row.get("name")) else str(row.get("name"))
        action = "" if pd.isna(row.get("action")) else str(row.get("action"))
        rules.append(SegmentRule(name, *bounds, action=action))
    return validate(rules)

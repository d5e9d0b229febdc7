"""The supply risk assessment: a registry of rules, each scoring likelihood and impact 1-5.

A rule reads the inputs (and the inventory policy when there is one) and returns one
RiskScore per subject it finds at risk: a supplier, a category, a SKU or a lane. Each
score carries its reasoning in words and a suggested mitigation. A risk's id is its type
and subject, so the register (core.supply_chain.register) keeps the user's fields when
the data is refreshed. Built-in rules live in core.supply_chain.risk_rules and register
through `rule`, as an extension would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.errors import UserInputError
from core.supply_chain import countries
from core.supply_chain.suppliers import Scorecard, scorecard

SUBJECT_KINDS = ("supplier", "category", "sku", "lane")
DEFAULT_CERTIFICATIONS = ("ISO 9001", "ISO 14001")  # quality and environmental management


@dataclass(frozen=True, slots=True)
class RiskScore:
    """One detected risk: who or what, how likely, how bad, and why."""

    risk_id: str  # "<type>:<subject key>", stable across refreshes
    type: str
    subject: str  # shown to people, e.g. "Elwood Manufacturing (S-005)"
    subject_kind: str
    likelihood: int
    impact: int
    reasoning: str
    suggested_mitigation: str

    @property
    def score(self) -> int:
        """Likelihood x impact, 1-25."""
        return self.likelihood * self.impact


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """Admin-owned tables and thresholds the rules read."""

    country_table: dict[str, tuple[int, str]] = field(
        default_factory=lambda: dict(countries.DEFAULT_TABLE)
    )
    required_certifications: tuple[str, ...] = DEFAULT_CERTIFICATIONS
    min_sku_score: int = 12  # SKU risks scoring less stay off the register (there are many SKUs)


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What a rule may read."""

    inputs: Any
    policy: pd.DataFrame | None
    scorecard: Scorecard | None
    settings: RiskSettings


class Skipped(Exception):
    """A rule cannot run on these inputs; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class RiskRule:
    """A registered rule: its type key, label, what it scores, and its mitigation advice."""

    key: str
    label: str
    subject_kind: str
    mitigation: str
    score: Callable[[RiskContext], list[RiskScore]]


RULES: dict[str, RiskRule] = {}


def rule(key: str, label: str, subject_kind: str, mitigation: str):
    """Register a rule function under `key` (a decorator)."""
    if subject_kind not in SUBJECT_KINDS:
        raise ValueError(f"unknown subject kind {subject_kind!r}")

    def add(func: Callable[[RiskContext], list[RiskScore]]):
        RULES[key] = RiskRule(key, label, subject_kind, mitigation, func)
        return func

    return add


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """Every risk found, highest score first, and the rules that could not run."""

    risks: tuple[RiskScore, ...]
    skipped: tuple[tuple[str, str], ...]  # (rule label, why)

    def frame(self) -> pd.DataFrame:
        """The risks as a table (risk_id, type, subject, ..., score, reasoning, mitigation)."""
        columns = [
            "risk_id", "type", "subject", "subject_kind", "likelihood", "impact", "score",
            "reasoning", "suggested_mitigation",
        ]  # fmt: skip
        rows = [{c: getattr(r, c) for c in columns} for r in self.risks]
        return pd.DataFrame(rows, columns=columns)

    def heatmap(self) -> pd.DataFrame:
        """Counts of risks per (likelihood, impact) cell, all 25 cells present."""
        grid = pd.MultiIndex.from_product(
            [range(1, 6), range(1, 6)], names=["likelihood", "impact"]
        )
        counts = pd.Series(0, index=grid, name="risks")
        for r in self.risks:
            counts[(r.likelihood, r.impact)] += 1
        return counts.reset_index()


def band(value: float, thresholds: Sequence[float]) -> int:
    """1 + the number of ascending thresholds `value` reaches (1-5 with four thresholds)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 1
    return 1 + sum(bool(value >= t) for t in thresholds)


def assess(
    inputs: Any,
    policy: pd.DataFrame | None = None,
    settings: RiskSettings | None = None,
    *,
    card: Scorecard | None = None,
    rules: Sequence[str] | None = None,
) -> RiskAssessment:
    """Run the registered rules (or the named ones) over the inputs and the policy table."""
    settings = settings or RiskSettings()
    if card is None:
        try:
            card = scorecard(inputs)
        except UserInputError:  # no suppliers at all: the rules that need them skip
            card = None
    context = RiskContext(inputs, policy, card, settings)
    found: list[RiskScore] = []
    skipped: list[tuple[str, str]] = []
    for key in rules or list(RULES):
        spec = RULES[key]
        try:
            found.extend(spec.score(context))
        except Skipped as why:
            skipped.append((spec.label, str(why)))
    found.sort(key=lambda r: (-r.score, -r.likelihood, r.risk_id))
    return RiskAssessment(tuple(found), tuple(skipped))


import core.supply_chain.risk_rules  # noqa: E402,F401  (registers the built-in rules)

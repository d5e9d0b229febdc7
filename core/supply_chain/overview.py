"""One supply-chain check: demand, policy, scorecards, risks and carbon for a set of inputs.

Used by the CLI, the workflow task and the page's headline numbers. Each part runs
only when its view has what it needs (core.supply_chain.inputs.missing_for says what
is missing); the others are None.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.auth.roles import User
from core.errors import UserInputError
from core.store import Store
from core.supply_chain import carbon, carbon_tables, demand, inputs, preferences, risks, suppliers
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.policy import PolicyResult, PolicySettings, compute_policy

VIEWS = ("policy", "suppliers", "risks", "carbon")
POLICY_FIELDS = (
    "sku", "supplier_id", "abc", "xyz", "demand_mean", "safety_stock", "reorder_point", "eoq",
    "days_of_cover", "stockout_probability", "order_qty", "order_by",
)  # fmt: skip


REGISTER_FIELDS = (
    "risk_id", "type", "subject", "likelihood", "impact", "score", "reasoning",
    "suggested_mitigation", "owner", "status", "due_date", "notes", "detected",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SupplyCheck:
    """The results of one check, and what each view lacks."""

    policy: PolicyResult | None
    scorecard: suppliers.Scorecard | None
    assessment: risks.RiskAssessment | None
    emissions: carbon.CarbonResult | None
    missing: dict[str, list[str]]
    sources: dict[str, str]


def register_scope(data: SupplyInputs) -> str:
    """The register a set of inputs belongs to: its supplier master's (else orders') dataset."""
    for table in ("suppliers", "orders", "shipments", "skus"):
        source = data.sources.get(table)
        if source:
            return re.sub(r" v\d+$", "", source)
    return "default"


def risk_settings(store: Store, user: User) -> risks.RiskSettings:
    """The admin's country table and required certifications as rule settings."""
    return risks.RiskSettings(
        country_table=preferences.country_table(store, user),
        required_certifications=preferences.required_certifications(store, user),
    )


def run(
    data: SupplyInputs,
    *,
    settings: PolicySettings | None = None,
    rules: risks.RiskSettings | None = None,
    factor_table: carbon.FactorTable = carbon.DEFAULT,
    weights: dict[str, float] | None = None,
) -> SupplyCheck:
    """Run every view the inputs allow."""
    settings = settings or PolicySettings()
    missing = {view: inputs.missing_for(data, view) for view in VIEWS}
    policy = None
    if inputs.ready_for(data, "policy"):
        forecast = demand.forecast_demand(data.orders, freq=settings.freq, horizon=settings.horizon)
        policy = compute_policy(data, forecast, settings)
    card = suppliers.scorecard(data, weights) if inputs.ready_for(data, "suppliers") else None
    assessment = None
    if inputs.ready_for(data, "risks") or card is not None:
        table = policy.table if policy is not None else None
        assessment = risks.assess(data, table, rules, card=card)
    emissions = None
    if inputs.ready_for(data, "carbon"):
        emissions = carbon.emissions(data.shipments, factor_table, data.skus)
    return SupplyCheck(policy, card, assessment, emissions, missing, dict(data.sources))


def run_for(
    store: Store, user: User, data: SupplyInputs, settings: PolicySettings | None = None
) -> SupplyCheck:
    """`run` with the stored weights, country table, certifications and factor table."""
    return run(
        data,
        settings=settings,
        rules=risk_settings(store, user),
        factor_table=carbon_tables.current(store, user),
        weights=preferences.weights(store, user),
    )


def _plain(value: Any) -> Any:
    """A JSON-safe value: NaN and infinities become None, dates ISO strings."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    if value is pd.NaT:
        return None
    return value


def policy_rows(check: SupplyCheck) -> list[dict[str, Any]]:
    """Per-SKU policy figures as plain values."""
    if check.policy is None:
        return []
    table = check.policy.table
    columns = [c for c in POLICY_FIELDS if c in table.columns]
    return [{c: _plain(row[c]) for c in columns} for row in table.to_dict("records")]


def risk_rows(check: SupplyCheck, entries: list | None = None) -> list[dict[str, Any]]:
    """The risks (with register fields when `entries` are given) as plain values."""
    if entries is not None:
        return [{k: _plain(getattr(e, k)) for k in REGISTER_FIELDS} for e in entries]
    if check.assessment is None:
        return []
    return check.assessment.frame().to_dict("records")


def require_any(check: SupplyCheck) -> None:
    """A UserInputError when the inputs allow no view at all."""
    if all(
        part is None for part in (check.policy, check.scorecard, check.assessment, check.emissions)
    ):
        reasons = sorted(
            {m for lines in check.missing.values() for m in lines if m.startswith("Needs")}
        )
        raise UserInputError("Nothing to compute: " + " ".join(reasons))

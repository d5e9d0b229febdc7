"""What-if scenarios: change the world, recompute the policy and carbon, compare with the base.

Each scenario runs the same inventory policy as the base case
(core.supply_chain.policy.compute_policy) with the same demand forecast:

* lead time +x%: every lead time (mean and spread) x% longer (the policy's lead-time factor);
* demand +y%: demand (mean and error) y% higher (the policy's demand factor); shipments
  carry y% more weight, so transport emissions grow with it;
* supplier out for n weeks: that supplier's SKUs wait n weeks longer for any order;
* mode shift (e.g. air -> sea, share s): that share of the shipments on the first mode
  moves to the second, with the lead time the supplier's shipments on the new mode
  took (all suppliers' where it has none), changing lead-time history and carbon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.errors import UserInputError
from core.supply_chain import carbon
from core.supply_chain.carbon import FactorTable
from core.supply_chain.demand import DemandForecast
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.policy import PolicySettings, compute_policy

MAX_PCT = 500.0
MAX_WEEKS = 104


@dataclass(frozen=True, slots=True)
class Scenario:
    """One what-if; zero values leave that part of the world unchanged."""

    name: str = "Scenario"
    lead_time_pct: float = 0.0
    demand_pct: float = 0.0
    supplier_out: str | None = None
    out_weeks: int = 0
    shift_from: str | None = None
    shift_to: str | None = None
    shift_share: float = 1.0

    def describe(self) -> str:
        """The scenario in words."""
        parts = []
        if self.lead_time_pct:
            parts.append(f"lead times {self.lead_time_pct:+g}%")
        if self.demand_pct:
            parts.append(f"demand {self.demand_pct:+g}%")
        if self.supplier_out and self.out_weeks:
            parts.append(f"{self.supplier_out} out for {self.out_weeks} week(s)")
        if self.shift_from and self.shift_to:
            parts.append(f"{self.shift_share:.0%} of {self.shift_from} moved to {self.shift_to}")
        return ", ".join(parts) or "no change"


def check(scenario: Scenario, inputs: SupplyInputs) -> Scenario:
    """The scenario if it makes sense for these inputs, else a UserInputError."""
    for label, pct in (("Lead time", scenario.lead_time_pct), ("Demand", scenario.demand_pct)):
        if not math.isfinite(pct) or not -90 <= pct <= MAX_PCT:
            raise UserInputError(f"{label} change must be between -90% and +{MAX_PCT:g}%.")
    if scenario.supplier_out:
        if not 0 < scenario.out_weeks <= MAX_WEEKS:
            raise UserInputError(f"A supplier outage lasts 1 to {MAX_WEEKS} weeks.")
        known = set()
        for table in ("suppliers", "skus", "shipments"):
            if inputs.has(table, "supplier_id"):
                known |= set(getattr(inputs, table)["supplier_id"].astype(str))
        if scenario.supplier_out not in known:
            raise UserInputError(f"There is no supplier {scenario.supplier_out!r} in the data.")
    if scenario.shift_from or scenario.shift_to:
        if (
            not (scenario.shift_from and scenario.shift_to)
            or scenario.shift_from == scenario.shift_to
        ):
            raise UserInputError("A mode shift needs two different modes, e.g. air to sea.")
        if not inputs.has("shipments", "mode", "order_date", "received_date"):
            raise UserInputError("A mode shift needs shipments with modes and dates.")
        if not 0 < scenario.shift_share <= 1:
            raise UserInputError("The share of shipments to move is between 0% and 100%.")
    return scenario


def _scale_leads(ships: pd.DataFrame, mask: pd.Series, factor: pd.Series | float) -> pd.DataFrame:
    out = ships.copy()
    ordered = pd.to_datetime(out["order_date"])
    days = (pd.to_datetime(out["received_date"]) - ordered).dt.days.astype(float)
    new = days.where(~mask, (days * factor).round())
    out["received_date"] = ordered + pd.to_timedelta(new, unit="D")
    return out


def _mean_days(ships: pd.DataFrame) -> pd.Series:
    return (
        pd.to_datetime(ships["received_date"]) - pd.to_datetime(ships["order_date"])
    ).dt.days.astype(float)


def _mode_ratio(ships: pd.DataFrame, src: str, dst: str) -> pd.Series:
    """Lead-time ratio dst/src per supplier (all suppliers' ratio where one lacks either)."""
    frame = pd.DataFrame(
        {
            "supplier_id": ships["supplier_id"].astype(str),
            "mode": ships["mode"].map(carbon.normalise_mode),
            "days": (
                pd.to_datetime(ships["received_date"]) - pd.to_datetime(ships["order_date"])
            ).dt.days.astype(float),
        }
    )
    overall = frame.groupby("mode")["days"].mean()
    if src not in overall or dst not in overall or overall[src] <= 0:
        raise UserInputError(
            f"The shipments have no {src if src not in overall else dst} history to estimate "
            "the new lead times from."
        )
    per = frame.groupby(["supplier_id", "mode"])["days"].mean().unstack()
    ratio = per.get(dst, pd.Series(np.nan, index=per.index)) / per.get(src)
    return ratio.fillna(overall[dst] / overall[src])


def apply(
    inputs: SupplyInputs, scenario: Scenario, settings: PolicySettings
) -> tuple[SupplyInputs, PolicySettings]:
    """The inputs and policy settings as they would be under the scenario."""
    scenario = check(scenario, inputs)
    changed = settings
    ships, suppliers = inputs.shipments, inputs.suppliers
    if scenario.demand_pct:
        factor = 1 + scenario.demand_pct / 100
        changed = replace(changed, demand_factor=changed.demand_factor * factor)
        if ships is not None:
            scaled = {c: ships[c] * factor for c in ("weight_kg", "quantity") if c in ships}
            ships = ships.assign(**scaled)
    if scenario.lead_time_pct:
        factor = 1 + scenario.lead_time_pct / 100
        changed = replace(changed, lead_time_factor=changed.lead_time_factor * factor)
    if scenario.supplier_out:
        extra = (*changed.extra_lead_time_days, (scenario.supplier_out, 7.0 * scenario.out_weeks))
        changed = replace(changed, extra_lead_time_days=extra)
    if scenario.shift_from and ships is not None:
        ships, suppliers = _shift(ships, suppliers, scenario)
    out = inputs
    if ships is not inputs.shipments:
        out = out.with_table("shipments", ships)
    if suppliers is not inputs.suppliers:
        out = out.with_table("suppliers", suppliers)
    return out, changed


def _shift(
    ships: pd.DataFrame, suppliers: pd.DataFrame | None, scenario: Scenario
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    src, dst = carbon.normalise_mode(scenario.shift_from), carbon.normalise_mode(scenario.shift_to)
    if src is None or dst is None:
        raise UserInputError(f"Modes are {', '.join(carbon.MODES)}.")
    ratio = _mode_ratio(ships, src, dst)
    on_src = ships["mode"].map(carbon.normalise_mode) == src
    # Move every k-th shipment of the mode, in order, so the moved share is exact and repeatable.
    rank = on_src.cumsum().where(on_src, 0)
    moved = on_src & (
        np.floor(rank * scenario.shift_share) > np.floor((rank - 1) * scenario.shift_share)
    )
    factor = ships["supplier_id"].astype(str).map(ratio).astype(float)
    out = _scale_leads(ships, moved, factor)
    out["mode"] = out["mode"].where(~moved, dst)
    if suppliers is not None and "lead_time_mean_days" in suppliers:
        # The master's mean follows the supplier's history: scale it by how the mean moved.
        ids = ships["supplier_id"].astype(str)
        scale = _mean_days(out).groupby(ids).mean() / _mean_days(ships).groupby(ids).mean()
        factor_by = suppliers["supplier_id"].astype(str).map(scale).fillna(1.0)
        suppliers = suppliers.assign(
            lead_time_mean_days=suppliers["lead_time_mean_days"] * factor_by
        )
    return out, suppliers


@dataclass(frozen=True, slots=True)
class Comparison:
    """Base and scenario side by side.

    summary: measure, unit, base, scenario, change
    skus: sku, supplier_id, safety_stock (base, scenario), reorder_point (base, scenario),
        stockout_probability (base, scenario)
    """

    scenario: Scenario
    summary: pd.DataFrame
    skus: pd.DataFrame
    carbon_table: str
    notes: tuple[str, ...]


AT_RISK = (
    0.5  # a SKU counts as at risk when a stock-out before the next receipt is likelier than not
)


def measures(
    policy: pd.DataFrame, inputs: SupplyInputs, emissions: carbon.CarbonResult | None
) -> dict[str, float]:
    """The compared measures of one case."""
    cost = policy["unit_cost"] if "unit_cost" in policy else pd.Series(np.nan, index=policy.index)
    rate = pd.Series(np.nan, index=policy.index)
    if inputs.has("skus", "holding_cost_rate"):
        rate = policy["sku"].map(inputs.skus.set_index("sku")["holding_cost_rate"]).astype(float)
    ss_value = (policy["safety_stock"] * cost).sum(min_count=1)
    return {
        "SKUs at risk of a stock-out": float((policy["stockout_probability"] >= AT_RISK).sum()),
        "Mean stock-out probability": float(policy["stockout_probability"].mean()),
        "Safety stock (units)": float(policy["safety_stock"].sum()),
        "Safety stock value": float(ss_value) if pd.notna(ss_value) else math.nan,
        "Holding cost of safety stock per year": float(
            (policy["safety_stock"] * cost * rate).sum(min_count=1)
        ),
        "Recommended order value": float(policy["order_value"].sum())
        if "order_value" in policy
        else math.nan,
        "Transport emissions (t CO2e)": emissions.total_kg / 1000 if emissions else math.nan,
    }


UNITS = {
    "SKUs at risk of a stock-out": "SKUs",
    "Mean stock-out probability": "probability",
    "Safety stock (units)": "units",
    "Safety stock value": "currency",
    "Holding cost of safety stock per year": "currency",
    "Recommended order value": "currency",
    "Transport emissions (t CO2e)": "t CO2e",
}


def _carbon(inputs: SupplyInputs, table: FactorTable) -> carbon.CarbonResult | None:
    if not inputs.has("shipments", "mode", "distance_km"):
        return None
    try:
        return carbon.emissions(inputs.shipments, table, inputs.skus)
    except UserInputError:
        return None


def compare(
    inputs: SupplyInputs,
    demand: DemandForecast,
    scenario: Scenario,
    settings: PolicySettings | None = None,
    *,
    factor_table: FactorTable = carbon.DEFAULT,
    today=None,
) -> Comparison:
    """Run the policy (and carbon) on the base case and the scenario; compare them."""
    settings = settings or PolicySettings()
    changed_inputs, changed_settings = apply(inputs, scenario, settings)
    base = compute_policy(inputs, demand, settings, today=today).table
    what_if = compute_policy(changed_inputs, demand, changed_settings, today=today).table
    base_m = measures(base, inputs, _carbon(inputs, factor_table))
    new_m = measures(what_if, changed_inputs, _carbon(changed_inputs, factor_table))
    summary = pd.DataFrame(
        {
            "measure": list(base_m),
            "unit": [UNITS[k] for k in base_m],
            "base": list(base_m.values()),
            "scenario": [new_m[k] for k in base_m],
        }
    )
    summary["change"] = summary["scenario"] - summary["base"]
    keep = ["safety_stock", "reorder_point", "stockout_probability"]
    left = base.set_index("sku")[["supplier_id", *keep]]
    right = what_if.set_index("sku")[keep]
    skus = left.merge(right, left_index=True, right_index=True, suffixes=("_base", "_scenario"))
    skus = skus.reset_index()
    skus["safety_stock_change"] = skus["safety_stock_scenario"] - skus["safety_stock_base"]
    skus = skus.sort_values("safety_stock_change", ascending=False, key=abs, ignore_index=True)
    return Comparison(
        scenario, summary, skus, factor_table.label, (f"What-if: {scenario.describe()}.",)
    )

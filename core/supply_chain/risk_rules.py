"""The eight built-in risk rules. Each scores likelihood and impact 1-5 and says why.

Impact of a supplier-level risk is the supplier's share of spend (bands at 2%, 5%, 10%
and 20%); of a SKU-level risk its ABC class (A 5, B 3, C 2). Thresholds are written
next to each rule so the reasoning can quote them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.supply_chain import countries
from core.supply_chain.classes import abc_classes as classify_abc
from core.supply_chain.risks import RiskContext, RiskScore, Skipped, band, rule
from core.supply_chain.suppliers import lead_days, on_time_flags, sku_spend

SHARE_BANDS = (0.02, 0.05, 0.10, 0.20)
CATEGORY_SHARE_BANDS = (0.05, 0.10, 0.20, 0.35)
HHI_BANDS = (1500, 2500, 4000, 6000)  # 1,500 and 2,500: the usual unconcentrated/highly lines
CV_BANDS = (0.1, 0.2, 0.3, 0.5)
DEFECT_BANDS = (0.005, 0.01, 0.02, 0.05)
DEMAND_CV_BANDS = (0.25, 0.5, 1.0, 1.5)
STOCKOUT_BANDS = (0.05, 0.15, 0.30, 0.50)
LATE_BANDS = (0.05, 0.10, 0.20, 0.35)
LONG_SEA_KM = 8000  # long ocean lanes cross more chokepoints and weather systems
ABC_IMPACT = {"A": 5, "B": 3, "C": 2}


def _list(values, spec: str) -> str:
    return ", ".join(format(v, spec) for v in values)


def _suppliers(ctx: RiskContext) -> pd.DataFrame:
    if ctx.scorecard is None or ctx.scorecard.table.empty:
        raise Skipped("needs a supplier master or shipment history")
    return ctx.scorecard.table


def _who(row) -> str:
    return (
        f"{row['name']} ({row['supplier_id']})"
        if row["name"] != row["supplier_id"]
        else row["name"]
    )


def _spend_impact(row) -> tuple[int, str]:
    share = row["spend_share"]
    if not row["spend"]:
        return 3, "spend unknown, impact assumed 3"
    return band(share, SHARE_BANDS), f"{share:.1%} of spend"


def _supplier_risk(ctx: RiskContext, key: str, row, likelihood: int, why: str) -> RiskScore:
    impact, impact_why = _spend_impact(row)
    return RiskScore(
        risk_id=f"{key}:{row['supplier_id']}",
        type=key,
        subject=_who(row),
        subject_kind="supplier",
        likelihood=likelihood,
        impact=impact,
        reasoning=f"{why}; impact {impact}: {impact_why}.",
        suggested_mitigation=ctx_mitigation(key),
    )


def _banded_suppliers(
    ctx: RiskContext,
    key: str,
    column: str,
    bands,
    why: Callable[[dict, float, int], str],
    missing: str,
) -> list[RiskScore]:
    """One risk per supplier whose `column` is known, its likelihood banded by `bands`."""
    out = []
    for row in _suppliers(ctx).to_dict("records"):
        value = row[column]
        if value is None or math.isnan(value):
            continue
        likelihood = band(value, bands)
        out.append(_supplier_risk(ctx, key, row, likelihood, why(row, value, likelihood)))
    if not out:
        raise Skipped(missing)
    return out


@rule(
    "concentration",
    "Supplier concentration",
    "category",
    "Qualify a second source for the category's top SKUs and split volume; hold extra "
    "safety stock on single-source A items meanwhile.",
)
def concentration(ctx: RiskContext) -> list[RiskScore]:
    """Spend concentrated in few suppliers per category (HHI)."""
    card = ctx.scorecard
    if card is None or card.categories.empty:
        raise Skipped(
            "needs spend: a SKU master with unit cost and supplier, plus orders or shipments"
        )
    total = card.categories["spend"].sum()
    single = card.single_source.groupby("category")["sku"].size()
    out = []
    for row in card.categories.to_dict("records"):
        share = row["spend"] / total if total > 0 else 0.0
        likelihood, impact = band(row["hhi"], HHI_BANDS), band(share, CATEGORY_SHARE_BANDS)
        n_single = int(single.get(row["category"], 0))
        out.append(
            RiskScore(
                risk_id=f"concentration:{row['category']}",
                type="concentration",
                subject=str(row["category"]),
                subject_kind="category",
                likelihood=likelihood,
                impact=impact,
                reasoning=(
                    f"HHI {row['hhi']:,.0f} over {row['suppliers']} supplier(s) "
                    f"(likelihood {likelihood}; bands at {_list(HHI_BANDS, ',')}); "
                    f"top supplier {row['top_supplier']} holds {row['top_share']:.0%}; "
                    f"{n_single} single-source SKU(s); impact {impact}: the category is "
                    f"{share:.1%} of spend."
                ),
                suggested_mitigation=ctx_mitigation("concentration"),
            )
        )
    return out


def ctx_mitigation(key: str) -> str:
    """The registered mitigation advice of a rule."""
    from core.supply_chain.risks import RULES

    return RULES[key].mitigation


@rule(
    "lead_time_variability",
    "Lead-time variability",
    "supplier",
    "Agree delivery windows and track them; raise safety stock where the variability is "
    "structural; consider a closer or faster secondary source.",
)
def lead_time_variability(ctx: RiskContext) -> list[RiskScore]:
    """Unsteady lead times (coefficient of variation)."""

    def why(row, cv: float, likelihood: int) -> str:
        return (
            f"lead time {row['lead_time_mean']:.1f} days with CV {cv:.2f} from "
            f"{row['lead_time_source']} (likelihood {likelihood}; bands at "
            f"{', '.join(map(str, CV_BANDS))})"
        )

    return _banded_suppliers(
        ctx, "lead_time_variability", "lead_time_cv", CV_BANDS, why,
        "needs lead-time history or a lead-time mean and deviation in the supplier master",
    )  # fmt: skip


@rule(
    "quality",
    "Quality",
    "supplier",
    "Run a corrective-action plan with the supplier, tighten incoming inspection, and tie "
    "defect targets to the contract.",
)
def quality(ctx: RiskContext) -> list[RiskScore]:
    """Defect rate."""

    def why(row, rate: float, likelihood: int) -> str:
        return (
            f"defect rate {rate:.2%} (likelihood {likelihood}; bands at "
            f"{', '.join(f'{t:.1%}' for t in DEFECT_BANDS)})"
        )

    return _banded_suppliers(
        ctx, "quality", "defect_rate", DEFECT_BANDS, why,
        "needs a defect_rate column in the supplier master",
    )  # fmt: skip


def abc_classes(ctx: RiskContext) -> pd.Series:
    """ABC class per SKU: the policy's, else from spend (core.supply_chain.classes)."""
    if ctx.policy is not None and "abc" in ctx.policy.columns:
        return ctx.policy.set_index(ctx.policy["sku"].astype(str))["abc"].astype(str)
    spend = sku_spend(ctx.inputs)
    if spend.empty:
        return pd.Series(dtype=str)
    return classify_abc(spend.groupby("sku")["spend"].sum())


def weekly_cv(orders: pd.DataFrame) -> pd.Series:
    """Coefficient of variation of weekly demand per SKU, counting weeks without orders."""
    week = pd.to_datetime(orders["date"]).dt.to_period("W").dt.start_time
    table = orders.assign(week=week).pivot_table(
        index="sku", columns="week", values="quantity", aggfunc="sum", fill_value=0
    )
    full = pd.date_range(table.columns.min(), table.columns.max(), freq="7D")
    table = table.reindex(columns=full, fill_value=0)
    mean = table.mean(axis=1)
    return (table.std(axis=1, ddof=1) / mean.where(mean > 0)).rename("cv")


def _sku_impact(abc: pd.Series, sku: str) -> tuple[int, str]:
    cls = abc.get(sku)
    if cls in ABC_IMPACT:
        return ABC_IMPACT[cls], f"class {cls} by value"
    return 2, "value class unknown, impact assumed 2"


@rule(
    "demand_volatility",
    "Demand volatility",
    "sku",
    "Forecast at a coarser level or with causal drivers, share forecasts with suppliers, "
    "and hold safety stock sized to the forecast error.",
)
def demand_volatility(ctx: RiskContext) -> list[RiskScore]:
    """Week-to-week swings in demand (CV of weekly quantity)."""
    orders = ctx.inputs.orders
    if orders is None or orders.empty:
        raise Skipped("needs order history")
    abc, out = abc_classes(ctx), []
    for sku, cv in weekly_cv(orders).dropna().items():
        likelihood = band(cv, DEMAND_CV_BANDS)
        impact, impact_why = _sku_impact(abc, str(sku))
        if likelihood * impact < ctx.settings.min_sku_score:
            continue
        out.append(
            RiskScore(
                risk_id=f"demand_volatility:{sku}",
                type="demand_volatility",
                subject=str(sku),
                subject_kind="sku",
                likelihood=likelihood,
                impact=impact,
                reasoning=(
                    f"weekly demand CV {cv:.2f} (likelihood {likelihood}; bands at "
                    f"{', '.join(map(str, DEMAND_CV_BANDS))}); impact {impact}: {impact_why}."
                ),
                suggested_mitigation=ctx_mitigation("demand_volatility"),
            )
        )
    return out


@rule(
    "stockout_exposure",
    "Stock-out exposure",
    "sku",
    "Place the recommended order now (expedite if the stock-out date is before the lead "
    "time), and review the service level and safety stock of the SKU.",
)
def stockout_exposure(ctx: RiskContext) -> list[RiskScore]:
    """Chance of running out before the next receipt, from the inventory policy."""
    policy = ctx.policy
    if policy is None or "stockout_probability" not in policy.columns:
        raise Skipped("needs the inventory policy (orders, inventory snapshot and lead times)")
    abc, out = abc_classes(ctx), []
    for row in policy.to_dict("records"):
        p = row["stockout_probability"]
        if p is None or (isinstance(p, float) and math.isnan(p)):
            continue
        likelihood = band(p, STOCKOUT_BANDS)
        impact, impact_why = _sku_impact(abc, str(row["sku"]))
        if likelihood * impact < ctx.settings.min_sku_score:
            continue
        cover = row.get("days_of_cover")
        cover_text = "" if cover is None or pd.isna(cover) else f", {cover:.0f} days of cover"
        out.append(
            RiskScore(
                risk_id=f"stockout_exposure:{row['sku']}",
                type="stockout_exposure",
                subject=str(row["sku"]),
                subject_kind="sku",
                likelihood=likelihood,
                impact=impact,
                reasoning=(
                    f"{p:.0%} chance of a stock-out before the next receipt{cover_text} "
                    f"(likelihood {likelihood}; bands at "
                    f"{_list(STOCKOUT_BANDS, '.0%')}); impact {impact}: {impact_why}."
                ),
                suggested_mitigation=ctx_mitigation("stockout_exposure"),
            )
        )
    return out


@rule(
    "country",
    "Country / geopolitical",
    "supplier",
    "Map sub-tier exposure in the country, keep a qualified source in another region, and "
    "review trade-compliance and insurance cover.",
)
def country(ctx: RiskContext) -> list[RiskScore]:
    """The supplier country's score in the (admin-editable) country table."""
    table = _suppliers(ctx)
    if "country" not in table.columns or table["country"].isna().all():
        raise Skipped("needs a country column in the supplier master")
    out = []
    for row in table.to_dict("records"):
        name = row["country"]
        if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
            continue
        found = countries.lookup(ctx.settings.country_table, str(name))
        why = f"{name}: country score {found.score} ({found.note})"
        out.append(_supplier_risk(ctx, "country", row, found.score, why))
    return out


@rule(
    "logistics",
    "Logistics disruption",
    "lane",
    "Book capacity ahead on the lane, add a routing or mode alternative, and hold buffer "
    "stock for the transit-time spread.",
)
def logistics(ctx: RiskContext) -> list[RiskScore]:
    """Late deliveries per lane (supplier and mode), more likely on long ocean routes."""
    ships = ctx.inputs.shipments
    if ships is None or ships.empty or "mode" not in ships.columns:
        raise Skipped("needs shipments with a transport mode")
    frame = pd.DataFrame(
        {
            "supplier_id": ships["supplier_id"].astype(str),
            "mode": ships["mode"].astype(str).str.lower(),
            "late": ~on_time_flags(ships),
            "days": lead_days(ships),
            "km": pd.to_numeric(ships.get("distance_km"), errors="coerce")
            if "distance_km" in ships.columns
            else np.nan,
            "weight": pd.to_numeric(ships.get("weight_kg"), errors="coerce")
            if "weight_kg" in ships.columns
            else 1.0,
        }
    )
    lanes = frame.groupby(["supplier_id", "mode"]).agg(
        shipments=("late", "size"), late=("late", "mean"), days=("days", "mean"),
        km=("km", "mean"), weight=("weight", "sum"),
    )  # fmt: skip
    total_weight = lanes["weight"].sum()
    names = (
        {}
        if ctx.scorecard is None
        else dict(zip(ctx.scorecard.table["supplier_id"], ctx.scorecard.table["name"], strict=True))
    )
    out = []
    for (supplier, mode), row in lanes.iterrows():
        likelihood = int(band(row["late"], LATE_BANDS))
        long_sea = mode == "sea" and row["km"] >= LONG_SEA_KM
        if long_sea:
            likelihood = min(5, likelihood + 1)
        share = row["weight"] / total_weight if total_weight > 0 else 0.0
        impact = int(band(share, SHARE_BANDS))
        km = "" if pd.isna(row["km"]) else f", {row['km']:,.0f} km"
        out.append(
            RiskScore(
                risk_id=f"logistics:{supplier}/{mode}",
                type="logistics",
                subject=f"{names.get(supplier, supplier)} ({supplier}) by {mode}",
                subject_kind="lane",
                likelihood=likelihood,
                impact=impact,
                reasoning=(
                    f"{row['late']:.0%} of {int(row['shipments'])} shipments late, "
                    f"{row['days']:.0f} days door to door{km}"
                    + (f" (+1: sea lane of {LONG_SEA_KM:,} km or more)" if long_sea else "")
                    + f"; impact {impact}: {share:.1%} of shipped weight."
                ),
                suggested_mitigation=ctx_mitigation("logistics"),
            )
        )
    return out


@rule(
    "compliance",
    "Compliance / ESG",
    "supplier",
    "Ask the supplier for a certification plan with dates, audit against the standard "
    "meanwhile, and prefer certified sources for new volume.",
)
def compliance(ctx: RiskContext) -> list[RiskScore]:
    """Certifications the admin requires that the supplier does not hold."""
    required = ctx.settings.required_certifications
    if not required:
        raise Skipped("no certifications are required (an admin sets the list)")
    suppliers = ctx.inputs.suppliers
    if suppliers is None or "certifications" not in suppliers.columns:
        raise Skipped("needs a certifications column in the supplier master")
    out = []
    for row in _suppliers(ctx).to_dict("records"):
        held = {
            c.strip().casefold() for c in str(row["certifications"]).replace(",", ";").split(";")
        }
        missing = [c for c in required if c.casefold() not in held]
        likelihood = 1 + math.ceil(4 * len(missing) / len(required))
        why = (
            f"missing {', '.join(missing)} of {len(required)} required"
            if missing
            else f"holds all {len(required)} required certifications"
        )
        out.append(_supplier_risk(ctx, "compliance", row, likelihood, why))
    return out

"""Supplier scorecards: delivery, lead time, quality, spend concentration and a weighted score.

Each measure comes from the shipment history when there is one (it is what happened)
and from the supplier master otherwise (what was agreed); the table says which.
The composite score (0-100) is a weighted mean of per-measure goodness values in 0-1:

    on_time        the on-time share itself
    lead_time      1 - mean lead time / 60 days   (60 days or more scores 0)
    lead_time_cv   1 - CV / 0.5                   (a CV of 0.5 or more scores 0)
    defect_rate    1 - defect rate / 5%           (5% or more scores 0)

Concentration is measured with the Herfindahl-Hirschman index over suppliers' spend
shares within a category, on the usual 0-10,000 scale (sum of squared % shares).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import UserInputError

DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time": 0.4,
    "lead_time": 0.15,
    "lead_time_cv": 0.2,
    "defect_rate": 0.25,
}
WEIGHT_LABELS = {
    "on_time": "On-time delivery",
    "lead_time": "Short lead time",
    "lead_time_cv": "Steady lead time",
    "defect_rate": "Low defect rate",
}
LEAD_TIME_ZERO_DAYS, CV_ZERO, DEFECT_ZERO = 60.0, 0.5, 0.05


@dataclass(frozen=True, slots=True)
class Scorecard:
    """Supplier scorecards with their concentration and trend tables.

    table: supplier_id, name, country, on_time, on_time_source, lead_time_mean,
        lead_time_cv, lead_time_source, defect_rate, spend, spend_share, skus,
        single_source_skus, certifications, score, rank
    categories: category, suppliers, spend, hhi, top_supplier, top_share
    single_source: sku, category, supplier_id
    trend: supplier_id, quarter, shipments, on_time, lead_time_mean
    """

    table: pd.DataFrame
    categories: pd.DataFrame
    single_source: pd.DataFrame
    trend: pd.DataFrame
    weights: dict[str, float]
    notes: tuple[str, ...]


def check_weights(values: Mapping[str, Any]) -> dict[str, float]:
    """Validated weights: every known measure, each >= 0, not all zero."""
    unknown = set(values) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise UserInputError(f"Unknown scorecard weight: {', '.join(sorted(unknown))}.")
    clean: dict[str, float] = {}
    for key in DEFAULT_WEIGHTS:
        try:
            value = float(values.get(key, 0.0))
        except (TypeError, ValueError):
            raise UserInputError(f"The weight of {WEIGHT_LABELS[key]} must be a number.") from None
        if not math.isfinite(value) or value < 0 or value > 100:
            raise UserInputError(f"The weight of {WEIGHT_LABELS[key]} must be between 0 and 100.")
        clean[key] = value
    if sum(clean.values()) <= 0:
        raise UserInputError("Give at least one scorecard weight above zero.")
    return clean


def hhi(shares: pd.Series | np.ndarray | list[float]) -> float:
    """Herfindahl-Hirschman index of shares (fractions summing to 1), on the 0-10,000 scale."""
    values = np.asarray(shares, dtype=float)
    total = values.sum()
    if total <= 0:
        return 0.0
    return float(((values / total * 100) ** 2).sum())


def supplier_names(suppliers: pd.DataFrame | None) -> dict[str, str]:
    """supplier_id -> display name (the id when the master has no name)."""
    if suppliers is None or suppliers.empty:
        return {}
    column = next((c for c in ("name", "supplier_name") if c in suppliers.columns), None)
    ids = suppliers["supplier_id"].astype(str)
    names = suppliers[column].astype(str) if column else ids
    return dict(zip(ids, names, strict=True))


def lead_days(shipments: pd.DataFrame) -> pd.Series:
    """Days from order to receipt per shipment."""
    received = pd.to_datetime(shipments["received_date"])
    ordered = pd.to_datetime(shipments["order_date"])
    return (received - ordered).dt.days.astype(float)


def on_time_flags(shipments: pd.DataFrame) -> pd.Series:
    """Whether each shipment arrived by its promised date (the on_time column if given)."""
    if "on_time" in shipments.columns:
        return shipments["on_time"].astype(bool)
    return pd.to_datetime(shipments["received_date"]) <= pd.to_datetime(shipments["promised_date"])


def sku_spend(inputs: Any) -> pd.DataFrame:
    """Spend per SKU (sku, supplier_id, category, spend): orders (else shipments) x unit cost."""
    skus = inputs.skus
    if skus is None or not {"sku", "unit_cost", "supplier_id"} <= set(skus.columns):
        return pd.DataFrame(columns=["sku", "supplier_id", "category", "spend"])
    master = skus.drop_duplicates("sku").set_index("sku")
    if inputs.orders is not None and not inputs.orders.empty:
        qty = inputs.orders.groupby("sku")["quantity"].sum()
        frame = pd.DataFrame({"sku": qty.index.astype(str), "qty": qty.to_numpy(dtype=float)})
        frame["supplier_id"] = frame["sku"].map(master["supplier_id"]).astype("string")
    elif inputs.shipments is not None and not inputs.shipments.empty:
        grouped = inputs.shipments.groupby(["sku", "supplier_id"])["quantity"].sum().reset_index()
        frame = grouped.rename(columns={"quantity": "qty"})
    else:
        return pd.DataFrame(columns=["sku", "supplier_id", "category", "spend"])
    frame["spend"] = frame["qty"] * frame["sku"].map(master["unit_cost"]).astype(float)
    category = master["category"] if "category" in master.columns else None
    frame["category"] = frame["sku"].map(category) if category is not None else "(all)"
    frame = frame.dropna(subset=["supplier_id", "spend"])
    return frame[["sku", "supplier_id", "category", "spend"]].reset_index(drop=True)


def _history(shipments: pd.DataFrame | None) -> pd.DataFrame:
    if shipments is None or shipments.empty:
        return pd.DataFrame(columns=["supplier_id", "on_time", "lead_time_mean", "lead_time_cv"])
    frame = pd.DataFrame(
        {
            "supplier_id": shipments["supplier_id"].astype(str),
            "on_time": on_time_flags(shipments).astype(float),
            "lead": lead_days(shipments),
        }
    )
    grouped = frame.groupby("supplier_id")
    out = grouped.agg(on_time=("on_time", "mean"), lead_time_mean=("lead", "mean"))
    std = grouped["lead"].std(ddof=1).fillna(0.0)
    out["lead_time_cv"] = std / out["lead_time_mean"].where(out["lead_time_mean"] > 0)
    return out.reset_index()


def _trend(shipments: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["supplier_id", "quarter", "shipments", "on_time", "lead_time_mean"]
    if shipments is None or shipments.empty:
        return pd.DataFrame(columns=columns)
    received = pd.to_datetime(shipments["received_date"])
    frame = pd.DataFrame(
        {
            "supplier_id": shipments["supplier_id"].astype(str),
            "quarter": received.dt.to_period("Q").dt.start_time,
            "on_time": on_time_flags(shipments).astype(float),
            "lead": lead_days(shipments),
        }
    )
    out = frame.groupby(["supplier_id", "quarter"]).agg(
        shipments=("lead", "size"), on_time=("on_time", "mean"), lead_time_mean=("lead", "mean")
    )
    return out.reset_index()[columns]


def _categories(spend: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    columns = ["category", "suppliers", "spend", "hhi", "top_supplier", "top_share"]
    if spend.empty:
        return pd.DataFrame(columns=columns)
    per = spend.groupby(["category", "supplier_id"])["spend"].sum().reset_index()
    rows = []
    for category, group in per.groupby("category"):
        total = group["spend"].sum()
        top = group.loc[group["spend"].idxmax()]
        rows.append(
            {
                "category": category,
                "suppliers": len(group),
                "spend": float(total),
                "hhi": hhi(group["spend"]),
                "top_supplier": names.get(str(top["supplier_id"]), str(top["supplier_id"])),
                "top_share": float(top["spend"] / total) if total > 0 else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values("hhi", ascending=False)


def _single_source(inputs: Any) -> pd.DataFrame:
    """SKUs with one supplier: across the SKU master and the shipment history together."""
    pairs = []
    if inputs.skus is not None and {"sku", "supplier_id"} <= set(inputs.skus.columns):
        pairs.append(inputs.skus[["sku", "supplier_id"]])
    if inputs.shipments is not None and not inputs.shipments.empty:
        pairs.append(inputs.shipments[["sku", "supplier_id"]])
    if not pairs:
        return pd.DataFrame(columns=["sku", "category", "supplier_id"])
    both = pd.concat(pairs).dropna().astype(str).drop_duplicates()
    counts = both.groupby("sku")["supplier_id"].transform("nunique")
    single = both[counts == 1].copy()
    category = None
    if inputs.skus is not None and "category" in inputs.skus.columns:
        category = inputs.skus.drop_duplicates("sku").set_index("sku")["category"]
    single["category"] = single["sku"].map(category) if category is not None else ""
    return single[["sku", "category", "supplier_id"]].sort_values("sku").reset_index(drop=True)


def goodness(table: pd.DataFrame) -> pd.DataFrame:
    """Per-measure goodness in 0-1 (NaN where a measure is unknown)."""
    return pd.DataFrame(
        {
            "on_time": table["on_time"].clip(0, 1),
            "lead_time": (1 - table["lead_time_mean"] / LEAD_TIME_ZERO_DAYS).clip(0, 1),
            "lead_time_cv": (1 - table["lead_time_cv"] / CV_ZERO).clip(0, 1),
            "defect_rate": (1 - table["defect_rate"] / DEFECT_ZERO).clip(0, 1),
        },
        index=table.index,
    )


def composite(table: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Weighted score 0-100; an unknown measure drops out and the others are re-weighted."""
    good = goodness(table)
    w = pd.Series({k: float(weights.get(k, 0.0)) for k in DEFAULT_WEIGHTS})
    known = good.notna().astype(float) * w
    total = known.sum(axis=1)
    score = (good.fillna(0.0) * w).sum(axis=1) / total.where(total > 0)
    return (score * 100).round(1)


def _master_value(master: pd.DataFrame, column: str) -> pd.Series:
    if column in master.columns:
        return pd.to_numeric(master[column], errors="coerce")
    return pd.Series(np.nan, index=master.index)


def scorecard(inputs: Any, weights: Mapping[str, float] | None = None) -> Scorecard:
    """Score every supplier in the master (and any that appear only in shipments)."""
    weights = check_weights(weights or DEFAULT_WEIGHTS)
    names = supplier_names(inputs.suppliers)
    history = _history(inputs.shipments).set_index("supplier_id")
    spend = sku_spend(inputs)
    ids = list(dict.fromkeys([*names, *history.index, *spend["supplier_id"].astype(str)]))
    if not ids:
        raise UserInputError("Scorecards need a supplier master or a shipment history.")
    master = (
        inputs.suppliers.assign(supplier_id=inputs.suppliers["supplier_id"].astype(str))
        .drop_duplicates("supplier_id")
        .set_index("supplier_id")
        .reindex(ids)
        if inputs.suppliers is not None and not inputs.suppliers.empty
        else pd.DataFrame(index=pd.Index(ids, name="supplier_id"))
    )
    hist = history.reindex(ids)
    table = pd.DataFrame(index=pd.Index(ids, name="supplier_id"))
    table["name"] = [names.get(i, i) for i in ids]
    table["country"] = master["country"] if "country" in master.columns else ""
    has_hist = hist["on_time"].notna()
    table["on_time"] = hist["on_time"].where(has_hist, _master_value(master, "on_time_rate"))
    table["on_time_source"] = np.where(has_hist, "shipments", "master")
    lt_std = _master_value(master, "lead_time_std_days")
    lt_mean = _master_value(master, "lead_time_mean_days")
    table["lead_time_mean"] = hist["lead_time_mean"].where(has_hist, lt_mean)
    table["lead_time_cv"] = hist["lead_time_cv"].where(
        has_hist, lt_std / lt_mean.where(lt_mean > 0)
    )
    table["lead_time_source"] = table["on_time_source"]
    table.loc[table["lead_time_mean"].isna(), "lead_time_source"] = "unknown"
    table.loc[table["on_time"].isna(), "on_time_source"] = "unknown"
    table["defect_rate"] = _master_value(master, "defect_rate")
    by_supplier = spend.groupby(spend["supplier_id"].astype(str))["spend"].sum()
    table["spend"] = by_supplier.reindex(ids).fillna(0.0)
    total = table["spend"].sum()
    table["spend_share"] = table["spend"] / total if total > 0 else 0.0
    single = _single_source(inputs)
    sku_pairs = spend if not spend.empty else single
    table["skus"] = sku_pairs.groupby("supplier_id")["sku"].nunique().reindex(ids).fillna(0)
    table["single_source_skus"] = single.groupby("supplier_id")["sku"].size().reindex(ids).fillna(0)
    table["certifications"] = master.get("certifications", "")
    table["certifications"] = table["certifications"].fillna("").astype(str)
    table["score"] = composite(table, weights)
    table = table.reset_index().sort_values(["score", "supplier_id"], ascending=[False, True])
    table["rank"] = np.arange(1, len(table) + 1)
    table[["skus", "single_source_skus"]] = table[["skus", "single_source_skus"]].astype(int)
    notes = []
    if inputs.shipments is None or inputs.shipments.empty:
        notes.append("No shipment history: on-time and lead time come from the supplier master.")
    else:
        notes.append(
            "On-time is measured against promised dates; shipments record no short "
            "deliveries, so in-full is not scored."
        )
    if spend.empty:
        notes.append(
            "No spend: spend needs the SKU master (unit cost, supplier) and orders or shipments."
        )
    return Scorecard(
        table=table.reset_index(drop=True),
        categories=_categories(spend, names).reset_index(drop=True),
        single_source=single,
        trend=_trend(inputs.shipments),
        weights=weights,
        notes=tuple(notes),
    )

"""Lead time per SKU (days): from its own delivery history, else its supplier's figures.

Order of preference, and the `lead_time_source` recorded for each SKU:

1. "delivery history": the SKU's shipments (received - order date) when it has at
   least `min_deliveries`; mean and sample standard deviation;
2. "supplier master": the supplier's lead_time_mean_days / lead_time_std_days
   (a missing standard deviation counts as 0);
3. "supplier history": all shipments of the SKU's supplier, at least `min_deliveries`;
4. "assumed": `default_days` when given (standard deviation 0), else "unknown" (NaN).

A SKU's supplier is the SKU master's supplier_id, else its most frequent supplier
in the shipments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.supply_chain.inputs import SupplyInputs

MIN_DELIVERIES = 5
COLUMNS = (
    "sku",
    "supplier_id",
    "lead_time_mean_days",
    "lead_time_std_days",
    "lead_time_source",
    "deliveries",
)


def _all_skus(inputs: SupplyInputs) -> pd.Index:
    found = [
        frame["sku"].astype(str)
        for frame in (inputs.orders, inputs.inventory, inputs.skus, inputs.shipments)
        if frame is not None and "sku" in frame.columns
    ]
    if not found:
        return pd.Index([], name="sku", dtype=object)
    return pd.Index(pd.concat(found).unique(), name="sku")


def _deliveries(shipments: pd.DataFrame | None) -> pd.DataFrame | None:
    if shipments is None or not {"order_date", "received_date"} <= set(shipments.columns):
        return None
    days = (shipments["received_date"] - shipments["order_date"]).dt.total_seconds() / 86_400
    sku = shipments["sku"] if "sku" in shipments.columns else None
    out = pd.DataFrame({"sku": sku, "supplier_id": shipments["supplier_id"], "days": days})
    return out[out["days"].notna() & (out["days"] >= 0)]


def _stats(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    grouped = frame.groupby(key)["days"]
    return pd.DataFrame(
        {"mean": grouped.mean(), "std": grouped.std(ddof=1).fillna(0.0), "n": grouped.size()}
    )


def lead_times(
    inputs: SupplyInputs, *, min_deliveries: int = MIN_DELIVERIES, default_days: float | None = None
) -> pd.DataFrame:
    """One row per known SKU: supplier_id, lead time mean/std (days), source, deliveries."""
    skus = _all_skus(inputs)
    out = pd.DataFrame(index=skus)
    out["supplier_id"] = None
    if inputs.has("skus", "supplier_id"):
        out["supplier_id"] = inputs.skus.set_index("sku")["supplier_id"].reindex(skus)
    history = _deliveries(inputs.shipments)
    if inputs.has("shipments", "sku", "supplier_id"):
        usual = (
            inputs.shipments.groupby("sku")["supplier_id"]
            .agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
            .reindex(skus)
        )
        out["supplier_id"] = out["supplier_id"].where(out["supplier_id"].notna(), usual)
    mean = pd.Series(np.nan, index=skus)
    std = pd.Series(np.nan, index=skus)
    source = pd.Series("unknown", index=skus, dtype=object)
    deliveries = pd.Series(0, index=skus, dtype=np.int64)

    def fill(mask: pd.Series, m: pd.Series, s: pd.Series, label: str) -> None:
        take = mask & mean.isna() & m.notna()
        mean[take], std[take], source[take] = m[take], s[take].fillna(0.0), label

    if history is not None and history["sku"].notna().any():
        by_sku = _stats(history.dropna(subset=["sku"]), "sku").reindex(skus)
        deliveries[:] = by_sku["n"].fillna(0).astype(np.int64)
        fill(by_sku["n"] >= min_deliveries, by_sku["mean"], by_sku["std"], "delivery history")
    supplier = out["supplier_id"]
    if inputs.has("suppliers", "lead_time_mean_days"):
        master = inputs.suppliers.set_index("supplier_id")
        m = supplier.map(master["lead_time_mean_days"])
        s = supplier.map(master["lead_time_std_days"]) if "lead_time_std_days" in master else m * 0
        fill(m.notna(), m, s, "supplier master")
    if history is not None:
        by_supplier = _stats(history, "supplier_id")
        n = supplier.map(by_supplier["n"]).fillna(0)
        mean_s, std_s = supplier.map(by_supplier["mean"]), supplier.map(by_supplier["std"])
        fill(n >= min_deliveries, mean_s, std_s, "supplier history")
    if default_days is not None:
        fill(pd.Series(True, index=skus), pd.Series(float(default_days), index=skus),
             pd.Series(0.0, index=skus), "assumed")  # fmt: skip
    out["lead_time_mean_days"], out["lead_time_std_days"] = mean, std
    out["lead_time_source"], out["deliveries"] = source, deliveries
    return out.reset_index()[list(COLUMNS)]

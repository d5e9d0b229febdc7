"""Per-SKU inventory policy: safety stock, reorder point, EOQ, cover, what to order now.

`compute_policy(inputs, demand, settings)` applies the formulas of `inventory` to every
SKU at once (numpy/pandas; 10,000 SKUs in well under a second). Units in the table:
demand per period (the demand forecast's period, a week by default), lead times in
periods (and days), stock in units, money in the unit cost's currency.

What-if scenarios change the settings, not the data:

* `demand_factor=1.2`: demand (mean and error) +20%;
* `lead_time_factor=1.3`: lead times (mean and spread) +30%;
* `extra_lead_time_days=(("S-003", 28.0),)`: supplier S-003 out for four weeks, so its
  SKUs wait 28 days longer;
* other changes (a different inventory snapshot, another supplier for a SKU) go
  through `SupplyInputs.with_table`.

Ordering rule (continuous review, (s, Q)): when the position (on hand + on order)
is at or below the reorder point, order enough multiples of the EOQ to lift it above
the reorder point; without costs for an EOQ, order up to the order-up-to level. A SKU
is on the recommended list when it must be ordered before the next review.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.data.export import frame_to_csv
from core.errors import UserInputError
from core.supply_chain import classes
from core.supply_chain.demand import DemandForecast
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.inventory import Z_MAX
from core.supply_chain.lead_times import MIN_DELIVERIES, lead_times

MAX_DAYS_AHEAD = 3_660  # dates further out than ten years are shown as none
ORDER_COLUMNS = (
    "sku",
    "product_name",
    "supplier_id",
    "supplier_name",
    "order_qty",
    "order_by",
    "unit_cost",
    "order_value",
    "why",
)


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Targets and scenario levers of a policy run (periods are the demand's periods)."""

    service_level: float = 0.95  # cycle service level, used unless fill_rate is set
    fill_rate: float | None = None  # share of demand met from stock, e.g. 0.98
    review_period: float = 1.0  # periods between reviews (order-up-to level, order list)
    horizon: int = 13
    freq: str = "W"
    demand_factor: float = 1.0
    lead_time_factor: float = 1.0
    extra_lead_time_days: tuple[tuple[str, float], ...] = ()  # (supplier_id, days)
    default_lead_time_days: float | None = None  # for SKUs with no lead time at all
    min_deliveries: int = MIN_DELIVERIES
    abc_cutoffs: tuple[float, float] = classes.ABC_CUTOFFS
    xyz_cutoffs: tuple[float, float] = classes.XYZ_CUTOFFS

    def checked(self) -> PolicySettings:
        """The settings, or a UserInputError naming the first bad one."""
        if not 0 < self.service_level < 1:
            raise UserInputError("The service level must be between 0 and 1 (exclusive).")
        if self.fill_rate is not None and not 0 < self.fill_rate < 1:
            raise UserInputError("The fill rate must be between 0 and 1 (exclusive).")
        for name in ("review_period", "demand_factor", "lead_time_factor"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise UserInputError(f"{name.replace('_', ' ').capitalize()} must be 0 or more.")
        if self.default_lead_time_days is not None and not self.default_lead_time_days >= 0:
            raise UserInputError("The default lead time must be 0 days or more.")
        if any(not math.isfinite(d) for _, d in self.extra_lead_time_days):
            raise UserInputError("Extra lead times must be numbers of days.")
        return replace(self, extra_lead_time_days=tuple(self.extra_lead_time_days))


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """One row per SKU (`table`), the orders to place (`recommended_orders`) and notes."""

    table: pd.DataFrame
    recommended_orders: pd.DataFrame
    notes: tuple[str, ...]
    settings: PolicySettings
    today: datetime.date
    period_days: float
    freq: str
    extra: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, float]:
        """Headline numbers: SKUs, at or below reorder point, stock-outs within the horizon."""
        t = self.table
        horizon_end = pd.Timestamp(self.today) + pd.Timedelta(
            days=self.settings.horizon * self.period_days
        )
        return {
            "skus": float(len(t)),
            "below_reorder_point": float((t["position"] <= t["reorder_point"]).sum()),
            "stockouts_in_horizon": float((t["stockout_date"] <= horizon_end).sum()),
            "orders": float(len(self.recommended_orders)),
            "order_value": float(self.recommended_orders["order_value"].sum()),
            "safety_stock_value": float((t["safety_stock"] * t["unit_cost"]).sum()),
        }

    def orders_csv(self) -> bytes:
        """The recommended orders as spreadsheet-safe CSV."""
        return frame_to_csv(self.recommended_orders)


def _z_for_fill_rate(beta: float, q: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Vectorised inventory.z_for_fill_rate: bisection on the decreasing loss function."""
    with np.errstate(divide="ignore", invalid="ignore"):
        target = (1 - beta) * q / sigma
    low = np.full(len(q), -np.nanmax(np.append(target[np.isfinite(target)], 1.0)) - 2.0)
    high = np.full(len(q), Z_MAX)
    for _ in range(60):  # halves the bracket each time: far below 1e-9 in the end
        mid = (low + high) / 2
        above = norm.pdf(mid) - mid * norm.sf(mid) > target
        low, high = np.where(above, mid, low), np.where(above, high, mid)
    z = (low + high) / 2
    return np.where(sigma > 0, np.where(np.isnan(target), np.nan, z), 0.0)


def _dates(start: pd.Timestamp, days: np.ndarray, index: pd.Index) -> pd.Series:
    """`start` plus whole days; NaT when unknown or beyond MAX_DAYS_AHEAD (never, in effect)."""
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    near = np.isfinite(days) & (days <= MAX_DAYS_AHEAD)
    out[near] = start + pd.to_timedelta(np.floor(days[near]), unit="D")
    return out


def _col(frame: pd.DataFrame | None, column: str, index: pd.Index) -> pd.Series:
    if frame is None or column not in frame.columns:
        return pd.Series(np.nan, index=index)
    return frame.set_index("sku")[column].reindex(index)


def _today(inputs: SupplyInputs, demand: DemandForecast, today) -> datetime.date:
    if today is not None:
        return pd.Timestamp(today).date()
    if inputs.has("inventory", "snapshot_date") and inputs.inventory["snapshot_date"].notna().any():
        return pd.Timestamp(inputs.inventory["snapshot_date"].max()).date()
    last = pd.to_datetime(demand.table["last_date"]).max()
    if pd.isna(last):
        return datetime.date.today()
    return (last + pd.Timedelta(days=demand.period_days)).date()


def compute_policy(
    inputs: SupplyInputs,
    demand: DemandForecast,
    settings: PolicySettings | None = None,
    *,
    today: datetime.date | None = None,
) -> PolicyResult:
    """Safety stock, reorder point, EOQ, order-up-to level, cover and orders for every SKU."""
    s = (settings or PolicySettings()).checked()
    notes: list[str] = []
    base = demand.table.set_index("sku")
    skus = base.index
    t = pd.DataFrame(index=skus)
    days = demand.period_days
    d = (base["demand_mean"] * s.demand_factor).to_numpy(float)
    sd = (base["demand_std"] * s.demand_factor).to_numpy(float)
    lt = lead_times(inputs, min_deliveries=s.min_deliveries, default_days=s.default_lead_time_days)
    lt = lt.set_index("sku").reindex(skus)
    extra = lt["supplier_id"].map(dict(s.extra_lead_time_days)).fillna(0.0).to_numpy(float)
    lt_days = lt["lead_time_mean_days"].to_numpy(float) * s.lead_time_factor + extra
    lt_std_days = lt["lead_time_std_days"].to_numpy(float) * s.lead_time_factor
    L, sL = lt_days / days, lt_std_days / days
    unit_cost = _col(inputs.skus, "unit_cost", skus).to_numpy(float)
    h = unit_cost * _col(inputs.skus, "holding_cost_rate", skus).to_numpy(float)
    k = _col(inputs.skus, "ordering_cost", skus).to_numpy(float)
    annual = d * 365.25 / days
    with np.errstate(divide="ignore", invalid="ignore"):
        eoq = np.where(h > 0, np.sqrt(2 * k * annual / h), np.nan)
    sigma_lt = np.sqrt(L * sd**2 + d**2 * sL**2)
    if s.fill_rate is not None:
        q_basis = np.where(
            np.isfinite(eoq) & (eoq > 0), eoq, np.maximum(d * max(s.review_period, 1), 1)
        )
        z = _z_for_fill_rate(s.fill_rate, q_basis, sigma_lt)
        target = f"{s.fill_rate:.1%} fill rate"
    else:
        z = np.full(len(skus), norm.ppf(s.service_level))
        target = f"{s.service_level:.1%} cycle service level"
    safety = np.maximum(z * sigma_lt, 0.0)
    if (z < 0).any():
        notes.append(f"{int((z < 0).sum())} SKUs meet the fill rate without safety stock.")
    rop = d * L + safety
    exposure = s.review_period + L
    up_to = d * exposure + z * sd * np.sqrt(exposure)
    on_hand = _col(inputs.inventory, "on_hand", skus).to_numpy(float)
    on_order = np.nan_to_num(_col(inputs.inventory, "on_order", skus).to_numpy(float))
    position = on_hand + on_order
    now = _today(inputs, demand, today)
    daily = d / days
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(on_hand <= 0, 0.0, np.where(daily > 0, on_hand / daily, np.inf))
        prob = np.where(
            sigma_lt > 0,
            norm.sf((position - d * L) / sigma_lt),
            (d * L > position).astype(float),
        )
    prob = np.where(np.isnan(position) | np.isnan(L), np.nan, prob)
    stamp = pd.Timestamp(now)
    stockout = _dates(stamp, cover, skus)
    # When to order: now if at or below the reorder point, else when demand brings it there.
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.where(position <= rop, 0.0, (position - rop) / daily)
    wait = np.where(np.isfinite(wait), wait, np.nan)
    order_by = _dates(stamp, wait, skus)
    due = ~np.isnan(wait) & (wait <= s.review_period * days)
    level = np.minimum(position, rop)  # the position when the order is placed
    with np.errstate(divide="ignore", invalid="ignore"):
        multiples = np.maximum(np.ceil((rop - level) / eoq), 1.0)
        qty = np.where(np.isfinite(eoq) & (eoq > 0), multiples * eoq, up_to - level)
    qty = np.where(due & (d > 0), np.ceil(np.maximum(qty, 0.0)), 0.0)
    qty = np.nan_to_num(qty)
    t["product_name"] = _col(inputs.skus, "product_name", skus)
    t["category"] = _col(inputs.skus, "category", skus)
    t["supplier_id"] = lt["supplier_id"]
    t["model"] = base["model"]
    t["demand_mean"], t["demand_std"], t["annual_demand"] = d, sd, annual
    t["cv"] = base["cv"]
    value = annual * np.nan_to_num(unit_cost, nan=0.0)
    if np.isnan(unit_cost).all():
        value = annual
        notes.append("No unit costs: ABC classes rank annual units, not value.")
    t["annual_value"] = np.where(np.isnan(unit_cost), np.nan, annual * unit_cost)
    t["abc"] = classes.abc_classes(pd.Series(value, index=skus), s.abc_cutoffs)
    t["xyz"] = classes.xyz_classes(base["cv"], s.xyz_cutoffs)
    t["lead_time_days"], t["lead_time_mean"], t["lead_time_std"] = lt_days, L, sL
    t["lead_time_source"] = lt["lead_time_source"].fillna("unknown")
    t["z"], t["sigma_lead_time"] = z, sigma_lt
    t["safety_stock"], t["reorder_point"], t["eoq"], t["order_up_to"] = safety, rop, eoq, up_to
    t["on_hand"], t["on_order"], t["position"] = on_hand, on_order, position
    t["days_of_cover"], t["stockout_date"], t["stockout_probability"] = cover, stockout, prob
    t["order_qty"], t["order_by"] = qty, order_by.where(qty > 0)
    t["unit_cost"], t["order_value"] = unit_cost, qty * unit_cost
    table = t.reset_index()
    notes += [*demand.notes, *_notes(table, inputs)]
    orders = _orders(table, inputs, target, demand.freq)
    return PolicyResult(table, orders, tuple(notes), s, now, days, demand.freq)


def _notes(table: pd.DataFrame, inputs: SupplyInputs) -> list[str]:
    notes = []
    unknown = int((table["lead_time_source"] == "unknown").sum())
    if unknown:
        notes.append(
            f"{unknown} SKUs have no lead time (no supplier master or delivery history): "
            "no safety stock or reorder point; set a default lead time to assume one."
        )
    if inputs.inventory is None:
        notes.append("No inventory snapshot: no days of cover, stock-out dates or orders.")
    elif (missing := int(table["on_hand"].isna().sum())) > 0:
        notes.append(f"{missing} SKUs are not in the inventory snapshot.")
    if inputs.skus is None:
        notes.append(
            "No SKU master: no EOQ or order values; orders fill up to the order-up-to level."
        )
    elif (no_eoq := int(table["eoq"].isna().sum())) > 0:
        notes.append(f"{no_eoq} SKUs lack unit cost, holding cost rate or ordering cost: no EOQ.")
    return notes


def _orders(table: pd.DataFrame, inputs: SupplyInputs, target: str, freq: str) -> pd.DataFrame:
    rows = table[table["order_qty"] > 0].sort_values(
        ["order_by", "order_value"], ascending=[True, False]
    )
    names = (
        rows["supplier_id"].map(inputs.suppliers.set_index("supplier_id")["name"])
        if inputs.has("suppliers", "name")
        else pd.Series(None, index=rows.index, dtype=object)
    )
    unit = {"daily": "days", "weekly": "weeks", "monthly": "months"}.get(freq, "periods")
    why = [
        (
            f"position {r.position:,.0f} is at or below the reorder point {r.reorder_point:,.0f}"
            if r.position <= r.reorder_point
            else f"position {r.position:,.0f} reaches the reorder point {r.reorder_point:,.0f} "
            f"by {r.order_by:%Y-%m-%d}"
        )
        + f"; lead time {r.lead_time_mean:.1f} {unit} ({r.lead_time_source}); {target}"
        + ("; EOQ" if np.isfinite(r.eoq) else "; up to the order-up-to level")
        for r in rows.itertuples()
    ]
    out = rows.assign(supplier_name=names.to_numpy(), why=why)
    out["order_by"] = pd.to_datetime(out["order_by"]).dt.date
    return out[list(ORDER_COLUMNS)].reset_index(drop=True)

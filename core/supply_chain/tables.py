"""The supply-chain tables: their columns (roles and well-known names) and cleaning.

Detection tries the tables in registry order, so the most specific come first:
shipments (dates of receipt), inventory (stock on hand), orders (dated quantities),
suppliers (no SKU), SKU master.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from core.errors import UserInputError

TEXT, NUMBER, DATE, FLAG = "text", "number", "date", "flag"


@dataclass(frozen=True, slots=True)
class Column:
    """One of our columns: the roles and normalised names that find it, and its kind."""

    name: str
    kind: str
    roles: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    non_negative: bool = False


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table: its columns, those it must have, one of which it needs, and a summary."""

    name: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    needs: str = ""

    def matches(self, mapping: Mapping[str, str]) -> bool:
        """True when a column map has what this table must have."""
        return (
            all(c in mapping for c in self.required)
            and (not self.any_of or any(c in mapping for c in self.any_of))
            and not any(c in mapping for c in self.absent)
        )


def _c(name: str, kind: str, roles: tuple[str, ...] = (), names: tuple[str, ...] = (), nn=False):
    return Column(name, kind, roles, (name, *names), nn)


SKU = _c("sku", TEXT, ("sku",), ("item_id", "product_id", "part_no", "part_number", "item"))
SUPPLIER = _c("supplier_id", TEXT, ("supplier",), ("supplier", "vendor", "vendor_id"))
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "shipments",
            (
                SUPPLIER,
                SKU,
                _c("order_date", DATE, (), ("po_date", "ordered_at", "placed_date")),
                _c("promised_date", DATE, (), ("due_date", "expected_date")),
                _c("received_date", DATE, (), ("receipt_date", "delivered_date", "arrival_date")),
                _c("mode", TEXT, (), ("transport_mode", "ship_mode")),
                _c("distance_km", NUMBER, (), ("distance",), True),
                _c("weight_kg", NUMBER, (), ("weight",), True),
                _c("quantity", NUMBER, ("quantity",), ("qty", "units"), True),
                _c("on_time", FLAG, (), ("on_time_flag", "otif")),
            ),
            ("supplier_id",),
            ("received_date", "mode"),
            needs="shipments need supplier_id and received_date or mode",
        ),
        TableSpec(
            "inventory",
            (
                SKU,
                _c("on_hand", NUMBER, ("on_hand",), ("stock", "stock_on_hand", "qty_on_hand")),
                _c("on_order", NUMBER, ("on_order",), ("open_orders", "qty_on_order"), True),
                _c("warehouse", TEXT, (), ("location", "site")),
                _c("snapshot_date", DATE, (), ("as_of", "snapshot", "stock_date")),
            ),
            ("sku", "on_hand"),
            needs="inventory needs sku and on_hand",
        ),
        TableSpec(
            "orders",
            (
                SKU,
                _c("date", DATE, ("date",), ("order_date", "invoice_date", "day")),
                _c("quantity", NUMBER, ("quantity",), ("qty", "units", "units_sold", "demand")),
            ),
            ("sku", "date", "quantity"),
            needs="orders need sku, date and quantity",
        ),
        TableSpec(
            "suppliers",
            (
                SUPPLIER,
                _c("name", TEXT, (), ("supplier_name", "vendor_name")),
                _c("country", TEXT, ("country",), ("country_code",)),
                _c("lead_time_mean_days", NUMBER, ("lead_time_days",),
                   ("lead_time_days", "lead_time", "lead_time_mean"), True),
                _c("lead_time_std_days", NUMBER, (),
                   ("lead_time_sd_days", "lead_time_std", "lead_time_sd"), True),
                _c("on_time_rate", NUMBER, (), ("otif", "on_time_in_full", "otif_rate"), True),
                _c("defect_rate", NUMBER, (), ("defect_pct", "reject_rate"), True),
                _c("certifications", TEXT, (), ("certificates", "certs")),
            ),
            ("supplier_id",),
            ("lead_time_mean_days", "country", "on_time_rate", "defect_rate"),
            ("sku",),
            needs="suppliers need supplier_id and a lead time, country or rate",
        ),
        TableSpec(
            "skus",
            (
                SKU,
                _c("unit_cost", NUMBER, ("cost",), ("cost", "standard_cost"), True),
                _c("holding_cost_rate", NUMBER, (), ("holding_rate", "carrying_cost_rate"), True),
                _c("ordering_cost", NUMBER, (), ("order_cost", "setup_cost"), True),
                SUPPLIER,
                _c("category", TEXT, ("category",), ("product_category",)),
                _c("weight_kg", NUMBER, (), ("weight",), True),
                _c("product_name", TEXT, ("product",), ("name",)),
            ),
            ("sku",),
            ("unit_cost", "holding_cost_rate", "ordering_cost", "supplier_id"),
            needs="a SKU master needs sku and a unit cost, cost rate or supplier",
        ),
    )
}  # fmt: skip


def _check_non_negative(table: str, frame: pd.DataFrame, column: str, source: str) -> None:
    values = frame[column]
    bad = values < 0
    if bad.any():
        key = "sku" if "sku" in frame.columns else "supplier_id"
        who = f" ({key} {frame.loc[bad, key].iloc[0]})" if key in frame.columns else ""
        raise UserInputError(
            f"{column} cannot be negative in {source}{who}: got {values[bad].iloc[0]:g}."
        )


def _convert(frame: pd.DataFrame, column: Column) -> pd.Series:
    values = frame[column.name]
    if column.kind == TEXT:
        return values.astype("string").str.strip().astype(object).where(values.notna(), None)
    if column.kind == NUMBER:
        return pd.to_numeric(values, errors="coerce").astype(float)
    if column.kind == DATE:
        return pd.to_datetime(values, errors="coerce")
    text = values.astype("string").str.strip().str.lower()  # flags: bools, 0/1, yes/no
    return text.map({"true": True, "1": True, "yes": True, "y": True, "false": False,
                     "0": False, "no": False, "n": False}).astype("boolean")  # fmt: skip


def _inventory(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU: stock summed over warehouses at each SKU's latest snapshot."""
    if "on_order" not in frame.columns:
        frame = frame.assign(on_order=0.0)
    frame = frame.assign(on_order=frame["on_order"].fillna(0.0))
    if "snapshot_date" in frame.columns and frame["snapshot_date"].notna().any():
        latest = frame.groupby("sku")["snapshot_date"].transform("max")
        frame = frame[frame["snapshot_date"] == latest]
        dates = frame.groupby("sku")["snapshot_date"].max()
    else:
        dates = None
    out = frame.groupby("sku", as_index=False)[["on_hand", "on_order"]].sum(min_count=1)
    if dates is not None:
        out["snapshot_date"] = out["sku"].map(dates)
    return out.astype({"sku": object})


def clean(table: str, frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Types converted, required values present, no negative amounts; one row per key."""
    spec = TABLES[table]
    source = source or f"the {table} table"
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise UserInputError(f"{source} has no {missing[0]!r} column: {spec.needs}.")
    known = [c for c in spec.columns if c.name in frame.columns]
    out = pd.DataFrame({c.name: _convert(frame, c) for c in known}, index=frame.index)
    out = out.dropna(subset=list(spec.required)).reset_index(drop=True)
    for column in known:
        if column.non_negative:
            _check_non_negative(table, out, column.name, source)
    if table == "inventory":
        out = _inventory(out)
    elif table in ("skus", "suppliers"):
        key = "sku" if table == "skus" else "supplier_id"
        out = out.drop_duplicates(key, keep="last").reset_index(drop=True)
    return out

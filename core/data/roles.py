"""Column roles: what a column means to Beacon's pages, and guessing them on ingest."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.errors import UserInputError

TEMPORAL, NUMERIC, TEXT, ANY = "temporal", "numeric", "text", "any"


@dataclass(frozen=True, slots=True)
class ColumnRole:
    """A meaning a column can have, the column types it accepts and names that suggest it."""

    name: str
    label: str
    help: str
    kinds: tuple[str, ...]
    patterns: tuple[str, ...]


ROLES: dict[str, ColumnRole] = {}


def register(role: ColumnRole) -> ColumnRole:
    """Add a role to the registry (built-ins and extensions alike)."""
    ROLES[role.name] = role
    return role


for _role in (
    ColumnRole(
        "date",
        "Date",
        "When the event happened",
        (TEMPORAL,),
        (
            r"^(order_|invoice_|transaction_|sale_|txn_)?date$",
            r"date",
            r"^(ds|day|timestamp)$",
            r"_at$",
        ),
    ),
    ColumnRole(
        "order_id",
        "Order ID",
        "Identifies an order (several lines may share it)",
        (TEXT, NUMERIC),
        (r"^(order|invoice|transaction|txn|receipt)_?(id|no|number)$",),
    ),
    ColumnRole(
        "customer_id",
        "Customer ID",
        "Identifies a customer",
        (TEXT, NUMERIC),
        (r"^(customer|client|cust|buyer|account)_?(id|no|number|key)?$",),
    ),
    ColumnRole(
        "amount",
        "Amount",
        "Money per row: revenue or sales value",
        (NUMERIC,),
        (
            r"^(amount|revenue|sales|total|net_sales|sales_amount|line_total|value|gmv)$",
            r"(revenue|amount|sales)",
        ),
    ),
    ColumnRole(
        "quantity",
        "Quantity",
        "Units per row",
        (NUMERIC,),
        (r"^(quantity|qty|units|units_sold|volume|demand)$",),
    ),
    ColumnRole("price", "Unit price", "Price per unit", (NUMERIC,), (r"^(unit_)?price$", r"price")),
    ColumnRole(
        "cost",
        "Unit cost",
        "Cost per unit (for margins)",
        (NUMERIC,),
        (r"^(unit_)?cost$", r"^cogs$", r"cost$"),
    ),
    ColumnRole(
        "sku",
        "SKU",
        "Identifies a product variant",
        (TEXT, NUMERIC),
        (r"^(sku|item_id|product_id|article|part_no|part_number|item)$",),
    ),
    ColumnRole(
        "product", "Product", "Product name", (TEXT,), (r"^(product|product_name|item_name)$",)
    ),
    ColumnRole(
        "category",
        "Category",
        "Product category",
        (TEXT,),
        (r"^(category|product_category|segment|department|family)$",),
    ),
    ColumnRole(
        "region",
        "Region",
        "Geography: region, state or market",
        (TEXT,),
        (r"^(region|state|market|territory|area|zone)$",),
    ),
    ColumnRole("country", "Country", "Country", (TEXT,), (r"^(country|country_code|nation)$",)),
    ColumnRole(
        "channel",
        "Channel",
        "Sales or acquisition channel",
        (TEXT,),
        (r"^(channel|sales_channel|source|medium)$",),
    ),
    ColumnRole(
        "promotion",
        "Promotion",
        "Whether a promotion applied",
        (NUMERIC, TEXT, ANY),
        (r"^(promo|promotion|on_promo|promo_flag|is_promo)$",),
    ),
    ColumnRole(
        "supplier",
        "Supplier",
        "Identifies a supplier",
        (TEXT, NUMERIC),
        (r"^(supplier|supplier_id|vendor|vendor_id)$",),
    ),
    ColumnRole(
        "lead_time_days",
        "Lead time (days)",
        "Supplier lead time in days",
        (NUMERIC,),
        (r"^lead_?time", r"lead_time"),
    ),
    ColumnRole(
        "on_hand",
        "On hand",
        "Units in stock now",
        (NUMERIC,),
        (r"^(on_hand|stock|stock_on_hand|inventory|qty_on_hand)$",),
    ),
    ColumnRole(
        "on_order",
        "On order",
        "Units ordered, not yet received",
        (NUMERIC,),
        (r"^(on_order|open_orders|qty_on_order)$",),
    ),
):
    register(_role)


def kind_of(duckdb_type: str) -> str:
    """Broad kind of a DuckDB column type."""
    t = duckdb_type.upper()
    if t.startswith(("DATE", "TIMESTAMP", "TIME")):
        return TEMPORAL
    if t.startswith(
        (
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
            "FLOAT",
            "DOUBLE",
            "DECIMAL",
            "REAL",
        )
    ):
        return NUMERIC
    if t == "BOOLEAN":
        return ANY
    return TEXT


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _score(role: ColumnRole, column: str, kind: str) -> int:
    if kind not in role.kinds and ANY not in role.kinds:
        return 0
    name = _normalise(column)
    for rank, pattern in enumerate(role.patterns):
        if re.search(pattern, name):
            return 100 - 10 * rank  # earlier (stricter) patterns win
    return 0


def guess_roles(columns: Iterable[tuple[str, str]]) -> dict[str, str | None]:
    """Map each column name to its most likely role (or None); each role used at most once."""
    columns = list(columns)
    candidates = sorted(
        (
            (_score(role, name, kind_of(dtype)), index, name, role.name)
            for index, (name, dtype) in enumerate(columns)
            for role in ROLES.values()
        ),
        key=lambda c: (-c[0], c[1]),
    )
    assigned: dict[str, str | None] = {name: None for name, _ in columns}
    used: set[str] = set()
    for score, _, name, role in candidates:
        if score and assigned[name] is None and role not in used:
            assigned[name] = role
            used.add(role)
    temporal = [name for name, dtype in columns if kind_of(dtype) == TEMPORAL]
    if "date" not in used and len(temporal) == 1 and assigned[temporal[0]] is None:
        assigned[temporal[0]] = "date"  # the only date-typed column is the date
    return assigned


def validate_roles(roles: Mapping[str, str | None], types: Mapping[str, str]) -> None:
    """Refuse unknown roles, a role on two columns, or a role on a column of the wrong type."""
    seen: dict[str, str] = {}
    for column, role in roles.items():
        if role is None:
            continue
        if column not in types:
            raise UserInputError(f"There is no column {column!r} in this dataset.")
        if role not in ROLES:
            raise UserInputError(f"Unknown role {role!r} for column {column!r}.")
        if role in seen:
            raise UserInputError(
                f"Role {ROLES[role].label!r} is on both {seen[role]!r} and {column!r}: keep one."
            )
        seen[role] = column
        spec, kind = ROLES[role], kind_of(types[column])
        if kind not in spec.kinds and ANY not in spec.kinds:
            raise UserInputError(
                f"Column {column!r} is {types[column].lower()}, but role {spec.label!r} "
                f"needs a {' or '.join(spec.kinds)} column."
            )


def missing_roles(roles: Mapping[str, str | None], needed: Iterable[str]) -> list[str]:
    """Roles from `needed` that no column has, in the order asked."""
    present = {r for r in roles.values() if r}
    return [r for r in needed if r not in present]

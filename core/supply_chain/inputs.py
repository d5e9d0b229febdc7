"""Supply-chain inputs: finding orders, inventory, SKU and supplier masters and shipments.

Each table is optional. A dataset is recognised as a table by the columns it has,
found by column role first (core.data.roles) and by well-known names otherwise, and
read through DuckDB with the columns renamed to the names below:

* orders: sku, date, quantity (demand history);
* inventory: sku, on_hand, on_order (summed over warehouses at the latest snapshot);
* skus: sku, unit_cost, holding_cost_rate (per year), ordering_cost (per order),
  supplier_id, category, weight_kg, product_name;
* suppliers: supplier_id, name, country, lead_time_mean_days, lead_time_std_days,
  on_time_rate, defect_rate, certifications;
* shipments: supplier_id, sku, order_date, promised_date, received_date, mode,
  distance_km, weight_kg, quantity, on_time.

`VIEWS` says what each view needs; `missing_for` turns that into sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from core.auth.roles import User
from core.data.catalog import Catalog, Dataset
from core.data.duck import first_line, quote_ident
from core.data.samples import SAMPLE_PREFIX
from core.errors import UserInputError
from core.supply_chain.tables import TABLES, TableSpec, clean

TABLE_NAMES = tuple(TABLES)


@dataclass(frozen=True, slots=True)
class SupplyInputs:
    """The tables found (None when absent), the dataset each came from, and notes."""

    orders: pd.DataFrame | None = None
    inventory: pd.DataFrame | None = None
    skus: pd.DataFrame | None = None
    suppliers: pd.DataFrame | None = None
    shipments: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # table -> (dataset name, {our column: the dataset's column}), for tables read from the
    # catalog: what a saved forecast run of that dataset must have been split by.
    origins: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def origin_of(self, table: str, column: str) -> tuple[str, str] | None:
        """The catalog dataset and its column behind one of our columns, when known."""
        found = self.origins.get(table)
        if found is None or column not in found[1]:
            return None
        return found[0], found[1][column]

    def has(self, table: str, *columns: str) -> bool:
        """True when `table` is present with every one of `columns`."""
        frame = getattr(self, table)
        return frame is not None and all(c in frame.columns for c in columns)

    def with_table(self, table: str, frame: pd.DataFrame | None) -> SupplyInputs:
        """A copy with one table replaced (cleaned), e.g. for what-if scenarios."""
        return replace(self, **{table: None if frame is None else clean(table, frame)})


def make_inputs(
    sources: dict[str, str] | None = None, **frames: pd.DataFrame | None
) -> SupplyInputs:
    """SupplyInputs from DataFrames that already use the column names above (checked)."""
    unknown = [name for name in frames if name not in TABLES]
    if unknown:
        raise UserInputError(f"Unknown supply-chain table {unknown[0]!r}: use {', '.join(TABLES)}.")
    cleaned = {name: clean(name, frame) for name, frame in frames.items() if frame is not None}
    return SupplyInputs(**cleaned, sources=dict(sources or {}))


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def column_map(dataset: Dataset, spec: TableSpec) -> dict[str, str]:
    """{our column: dataset column} for the columns of `spec` the dataset has."""
    by_role = {c.role: c.name for c in dataset.columns if c.role}
    by_name = {_normalise(c.name): c.name for c in dataset.columns}
    found: dict[str, str] = {}
    for column in spec.columns:
        source = next((by_role[r] for r in column.roles if r in by_role), None)
        if source is None or source in found.values():
            source = next((by_name[n] for n in column.names if n in by_name), None)
        if source is not None and source not in found.values():
            found[column.name] = source
    return found


def classify(dataset: Dataset) -> tuple[str, dict[str, str]] | None:
    """The first table (in TABLES order) the dataset can be, with its column map."""
    for name, spec in TABLES.items():
        mapping = column_map(dataset, spec)
        if spec.matches(mapping):
            return name, mapping
    return None


def read_table(con, dataset: Dataset, mapping: dict[str, str]) -> pd.DataFrame:
    """The mapped columns of a dataset version, renamed, via DuckDB."""
    select = ", ".join(
        f"{quote_ident(src)} AS {quote_ident(ours)}" for ours, src in mapping.items()
    )
    try:
        return con.execute(
            f"SELECT {select} FROM read_parquet($path)",  # noqa: S608 - quoted identifiers only
            {"path": str(dataset.path)},
        ).df()
    except Exception as exc:  # duckdb raises several error types; all mean unreadable data
        raise UserInputError(f"Could not read {dataset.name}: {first_line(exc)}") from exc


def _candidates(
    catalog: Catalog, user: User, sources: Sequence[str | Dataset] | None
) -> list[Dataset]:
    if sources is not None:
        return [s if isinstance(s, Dataset) else catalog.get(user, s) for s in sources]
    datasets = catalog.datasets(user)
    sample = [d for d in datasets if d.name.startswith(SAMPLE_PREFIX)]
    return sample or datasets  # the sample company is one coherent set: do not mix it


def load_inputs(
    services_or_catalog, user: User, sources: Sequence[str | Dataset] | None = None
) -> SupplyInputs:
    """Find and read the supply-chain tables among `sources` (names or datasets).

    Without sources: the sample company's datasets if loaded, else every dataset,
    the first (by name) recognised as each table. A named source that is none of the
    tables is an error; with automatic choice it is skipped.
    """
    catalog: Catalog = getattr(services_or_catalog, "catalog", services_or_catalog)
    datasets = _candidates(catalog, user, sources)
    frames: dict[str, pd.DataFrame] = {}
    origin: dict[str, str] = {}
    mapped: dict[str, tuple[str, dict[str, str]]] = {}
    notes: list[str] = []
    con = catalog.connect()
    try:
        for dataset in datasets:
            found = classify(dataset)
            if found is not None and found[0] in frames:
                if sources is not None:
                    raise UserInputError(
                        f"{dataset.name} and {origin[found[0]].rsplit(' v', 1)[0]} are both "
                        f"{found[0]}: name one of them."
                    )
                notes.append(f"{dataset.name} was left out: {origin[found[0]]} is the {found[0]}.")
                continue
            if found is None:
                if sources is not None:
                    raise UserInputError(
                        f"{dataset.name} is none of the supply-chain tables: "
                        + "; ".join(spec.needs for spec in TABLES.values())
                        + "."
                    )
                continue
            table, mapping = found
            frame = read_table(con, dataset, mapping)
            frames[table] = clean(table, frame, source=dataset.name)
            origin[table] = f"{dataset.name} v{dataset.version}"
            mapped[table] = (dataset.name, dict(mapping))
    finally:
        con.close()
    if sources is None and origin:
        notes.append("Found " + ", ".join(f"{t} in {o}" for t, o in origin.items()) + ".")
    return SupplyInputs(**frames, sources=origin, notes=tuple(notes), origins=mapped)


# --- what each view needs ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    """A table (or columns) a view uses: required to show it at all, or optional."""

    what: str
    why: str
    present: Callable[[SupplyInputs], bool]
    required: bool = False


def _lead_times(inputs: SupplyInputs) -> bool:
    return inputs.has("suppliers", "lead_time_mean_days") or inputs.has(
        "shipments", "order_date", "received_date"
    )


VIEWS: dict[str, tuple[Need, ...]] = {
    "policy": (
        Need("orders (sku, date, quantity)", "demand per SKU", lambda i: i.has("orders"), True),
        Need("lead times (a supplier master with lead_time_mean_days, or shipments with "
             "order and received dates)", "safety stock and reorder points", _lead_times),
        Need("an inventory snapshot (sku, on_hand, on_order)",
             "days of cover, stock-out dates and what to order now", lambda i: i.has("inventory")),
        Need("a SKU master (unit_cost, holding_cost_rate, ordering_cost, supplier_id)",
             "EOQ, ABC classes and order values", lambda i: i.has("skus", "unit_cost")),
    ),
    "suppliers": (
        Need("a supplier master or shipments with supplier_id", "the scorecard",
             lambda i: i.has("suppliers") or i.has("shipments"), True),
        Need("shipments (order, promised and received dates)", "on-time and lead-time history",
             lambda i: i.has("shipments", "received_date")),
        Need("a SKU master (supplier_id, category, unit_cost)",
             "spend share, concentration and single-source SKUs",
             lambda i: i.has("skus", "supplier_id")),
    ),
    "risks": (
        Need("a supplier master (supplier_id, country, certifications)",
             "supplier, country and compliance risks", lambda i: i.has("suppliers"), True),
        Need("orders (sku, date, quantity)", "demand volatility and stock-out exposure",
             lambda i: i.has("orders")),
        Need("an inventory snapshot (sku, on_hand)", "stock-out exposure",
             lambda i: i.has("inventory")),
        Need("shipments (mode, supplier_id)", "logistics disruption",
             lambda i: i.has("shipments", "mode")),
        Need("a SKU master (supplier_id, category)", "supplier concentration",
             lambda i: i.has("skus", "supplier_id")),
    ),
    "carbon": (
        Need("shipments (mode, distance_km, weight_kg)", "emissions per shipment",
             lambda i: i.has("shipments", "mode", "distance_km", "weight_kg"), True),
    ),
    "scenarios": (
        Need("orders (sku, date, quantity)", "the base case", lambda i: i.has("orders"), True),
        Need("lead times (supplier master or shipments)", "lead-time scenarios", _lead_times),
        Need("an inventory snapshot (sku, on_hand, on_order)", "stock-outs",
             lambda i: i.has("inventory")),
        Need("shipments (mode, distance_km, weight_kg)", "carbon and mode shifts",
             lambda i: i.has("shipments", "mode", "distance_km", "weight_kg")),
    ),
}  # fmt: skip


def _view(view: str) -> tuple[Need, ...]:
    try:
        return VIEWS[view]
    except KeyError:
        raise UserInputError(f"Unknown view {view!r}: choose one of {', '.join(VIEWS)}.") from None


def missing_for(inputs: SupplyInputs, view: str) -> list[str]:
    """What the view lacks, as sentences; required needs first ("Needs ..."), then "Without ..."."""
    needs = [n for n in _view(view) if not n.present(inputs)]
    required = [f"Needs {n.what} for {n.why}." for n in needs if n.required]
    optional = [f"Without {n.what}: no {n.why}." for n in needs if not n.required]
    return required + optional


def ready_for(inputs: SupplyInputs, view: str) -> bool:
    """True when every required need of the view is present."""
    return all(n.present(inputs) for n in _view(view) if n.required)

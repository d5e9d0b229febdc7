"""Grounding: the product and audience facts that prompts and templates are written from.

A product comes from any dataset with a `product` or `sku` column role: its name,
category, price and a few descriptive attributes. An audience is a customer group
(a value of a low-cardinality column of a customer dataset), a segment profile from
segmentation, or a description typed by the user.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd

from core.data.catalog import Dataset
from core.data.duck import quote_ident
from core.data.roles import NUMERIC, TEXT, kind_of
from core.errors import NotFound, UserInputError

MAX_PRODUCTS = 10_000
MAX_ATTRIBUTES = 5
MAX_GROUP_VALUES = 30
# Roles that describe the business, not the product a customer would read about.
_INTERNAL_ROLES = {"cost", "supplier", "on_hand", "on_order", "lead_time_days", "customer_id",
                   "order_id", "quantity", "amount", "date", "promotion"}  # fmt: skip
_INTERNAL_NAMES = re.compile(
    r"(^id$|_id$|cost|margin|rate$|supplier|vendor|stock|reorder|internal)"
)
_UNITS = {"kg": "kg", "g": "g", "lb": "lb", "oz": "oz", "cm": "cm", "mm": "mm", "m": "m",
          "in": "in", "ml": "ml", "l": "L", "w": "W", "mah": "mAh", "gb": "GB"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What Beacon knows about one product."""

    name: str
    sku: str | None = None
    category: str | None = None
    price: float | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    source: str = ""

    @property
    def price_text(self) -> str:
        return f"${self.price:,.2f}" if self.price is not None else ""

    def features(self) -> list[str]:
        """Attributes as short phrases: 'weight 0.6 kg'."""
        return [f"{label.split(' (')[0].lower()} {value}" for label, value in self.attributes]

    def lines(self) -> list[str]:
        """The facts as 'Label: value' lines for a prompt."""
        lines = [f"Product: {self.name}"]
        if self.sku:
            lines.append(f"SKU: {self.sku}")
        if self.category:
            lines.append(f"Category: {self.category}")
        if self.price is not None:
            lines.append(f"Price: {self.price_text}")
        lines += [f"{label}: {value}" for label, value in self.attributes]
        return lines

    def as_context(self) -> dict[str, Any]:
        """The facts as template variables."""
        return {
            "name": self.name,
            "sku": self.sku or "",
            "category": self.category or "",
            "price": self.price,
            "price_text": self.price_text,
            "features": self.features(),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sku": self.sku,
            "category": self.category,
            "price": self.price,
            "attributes": dict(self.attributes),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Audience:
    """Who the copy is for, with the facts Beacon knows about them."""

    name: str
    description: str = ""
    facts: tuple[str, ...] = ()
    source: str = ""

    def lines(self) -> list[str]:
        lines = [f"Audience: {self.name}"]
        if self.description:
            lines.append(f"About them: {self.description}")
        return lines + list(self.facts)

    def as_context(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "facts": list(self.facts)}

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "facts": list(self.facts),
            "source": self.source,
        }


NO_AUDIENCE = Audience(name="")


def _key_columns(dataset: Dataset) -> tuple[str, str | None]:
    name_col = dataset.column_for("product")
    sku_col = dataset.column_for("sku")
    if name_col is None and sku_col is None:
        raise UserInputError(
            f"{dataset.name} has no column with the Product or SKU role: set one on the Data page."
        )
    return (sku_col or name_col), name_col  # type: ignore[return-value]


def product_options(con, dataset: Dataset) -> pd.DataFrame:
    """Products to choose from: columns `key` (SKU, else name) and `label`."""
    key_col, name_col = _key_columns(dataset)
    key, label = quote_ident(key_col), quote_ident(name_col or key_col)
    frame = con.execute(
        f"SELECT DISTINCT CAST({key} AS VARCHAR) AS key, CAST({label} AS VARCHAR) AS name "  # noqa: S608
        f"FROM read_parquet(?) WHERE {key} IS NOT NULL ORDER BY name, key LIMIT ?",
        [str(dataset.path), MAX_PRODUCTS],
    ).df()
    if name_col and name_col != key_col:
        frame["label"] = frame["name"] + " (" + frame["key"] + ")"
    else:
        frame["label"] = frame["name"]
    return frame[["key", "label"]]


def _humanise(column: str) -> tuple[str, str | None]:
    words = column.replace("-", "_").strip("_").split("_")
    unit = _UNITS.get(words[-1].lower()) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    label = " ".join(words).strip().capitalize() or column
    return (f"{label} ({unit})" if unit else label), unit


def _format(value: Any, unit: str | None) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, datetime | date):
        text = value.strftime("%Y-%m-%d")
    else:
        text = str(value).strip()
    return f"{text} {unit}" if unit else text


def product_facts(con, dataset: Dataset, key: str) -> ProductFacts:
    """The facts of the product whose SKU (or name) is `key`."""
    key_col, name_col = _key_columns(dataset)
    cursor = con.execute(
        f"SELECT * FROM read_parquet(?) WHERE CAST({quote_ident(key_col)} AS VARCHAR) = ? "  # noqa: S608
        "LIMIT 1",
        [str(dataset.path), str(key)],
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"No product {key!r} in {dataset.name}.")
    values = dict(zip([d[0] for d in cursor.description], row, strict=True))
    roles = dataset.roles
    price_col, category_col = dataset.column_for("price"), dataset.column_for("category")
    sku_col = dataset.column_for("sku")
    attributes: list[tuple[str, str]] = []
    for column in dataset.columns:
        used = column.name in {key_col, name_col, price_col, category_col, sku_col}
        internal = roles.get(column.name) in _INTERNAL_ROLES or _INTERNAL_NAMES.search(
            column.name.lower()
        )
        value = values.get(column.name)
        if used or internal or value is None or kind_of(column.type) not in (NUMERIC, TEXT):
            continue
        if isinstance(value, str) and (not value.strip() or len(value) > 200):
            continue
        label, unit = _humanise(column.name)
        attributes.append((label, _format(value, unit)))
    price = values.get(price_col) if price_col else None
    return ProductFacts(
        name=str(values.get(name_col) if name_col else key),
        sku=str(values[sku_col]) if sku_col and values.get(sku_col) is not None else None,
        category=str(values[category_col]) if category_col and values.get(category_col) else None,
        price=float(price) if price is not None else None,
        attributes=tuple(attributes[:MAX_ATTRIBUTES]),
        source=f"{dataset.name} v{dataset.version}",
    )


def audience_columns(con, dataset: Dataset) -> dict[str, list[str]]:
    """Text columns of a customer dataset that split customers into a few named groups."""
    if dataset.column_for("customer_id") is None:
        return {}
    found: dict[str, list[str]] = {}
    for column in dataset.columns:
        if kind_of(column.type) != TEXT or dataset.roles.get(column.name) == "customer_id":
            continue
        ident = quote_ident(column.name)
        values = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {ident} FROM read_parquet(?) WHERE {ident} IS NOT NULL "  # noqa: S608
                f"ORDER BY 1 LIMIT {MAX_GROUP_VALUES + 1}",
                [str(dataset.path)],
            ).fetchall()
        ]
        if 2 <= len(values) <= MAX_GROUP_VALUES:
            found[column.name] = [str(v) for v in values]
    return found


def audience_from_group(con, dataset: Dataset, column: str, value: str) -> Audience:
    """Customers whose `column` is `value`, with their count, share and common traits."""
    if column not in dataset.roles:
        raise UserInputError(f"There is no column {column!r} in {dataset.name}.")
    customer = quote_ident(dataset.column_for("customer_id") or column)
    ident = quote_ident(column)
    total, members = con.execute(
        f"SELECT COUNT(DISTINCT {customer}), "  # noqa: S608
        f"COUNT(DISTINCT {customer}) FILTER (WHERE CAST({ident} AS VARCHAR) = ?) "
        "FROM read_parquet(?)",
        [value, str(dataset.path)],
    ).fetchone()
    if not members:
        raise NotFound(f"No customers have {column} = {value!r} in {dataset.name}.")
    facts = [f"{members:,} customers ({members / total:.0%} of all in {dataset.name})"]
    for other in audience_columns(con, dataset):
        if other == column:
            continue
        other_ident = quote_ident(other)
        top = con.execute(
            f"SELECT {other_ident}, COUNT(*) AS n FROM read_parquet(?) "  # noqa: S608
            f"WHERE CAST({ident} AS VARCHAR) = ? AND {other_ident} IS NOT NULL "
            "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1",
            [str(dataset.path), value],
        ).fetchone()
        if top and top[1] / members >= 0.4:  # only traits most of the group shares
            facts.append(f"{top[1] / members:.0%} have {_humanise(other)[0].lower()} {top[0]}")
    return Audience(
        name=f"{value} customers",
        facts=tuple(facts[:4]),
        source=f"{dataset.name} v{dataset.version}: {column} = {value}",
    )


def audience_from_segment(profile: Mapping[str, Any]) -> Audience:
    """An audience from a segment profile (segment, name, customers, recency_days, ...)."""
    label = profile.get("name") or profile.get("segment") or ""
    name = f"Segment {label}" if isinstance(label, int | float) else str(label).strip()
    facts = []
    if profile.get("customers") is not None:
        facts.append(f"{int(profile['customers']):,} customers")
    if profile.get("recency_days") is not None:
        facts.append(f"last bought {float(profile['recency_days']):.0f} days ago on average")
    if profile.get("frequency") is not None:
        facts.append(f"{float(profile['frequency']):.1f} orders each on average")
    if profile.get("monetary") is not None:
        facts.append(f"${float(profile['monetary']):,.0f} spent each on average")
    return Audience(name=name, facts=tuple(facts), source="segmentation")


def audience_from_text(name: str, description: str = "") -> Audience:
    """An audience the user describes in their own words."""
    name = " ".join(name.split())
    if not name:
        return NO_AUDIENCE
    if len(name) > 100 or len(description) > 1000:
        raise UserInputError("Keep the audience name under 100 and its description under 1,000.")
    return Audience(name=name, description=description.strip(), source="described")


def lookup_product(catalog, dataset: Dataset, text: str) -> ProductFacts:
    """`find_product` on a private connection; an unknown product is a plain input error.

    (Callers often run inside `core.sources.open_source`, where a NotFound would read as
    "no such dataset".)
    """
    con = catalog.connect()
    try:
        return find_product(con, dataset, text)
    except NotFound as exc:
        raise UserInputError(str(exc)) from None
    finally:
        con.close()


def find_product(con, dataset: Dataset, text: str) -> ProductFacts:
    """The product whose SKU or name is `text` (case-insensitive), or a helpful error."""
    options = product_options(con, dataset)
    wanted = text.strip().lower()
    exact = options[options["key"].str.lower() == wanted]
    if exact.empty:
        names = options["label"].str.lower()
        exact = options[(names == wanted) | names.str.startswith(wanted + " (")]
    if len(exact) == 1:
        return product_facts(con, dataset, exact["key"].iloc[0])
    if len(exact) > 1:
        raise UserInputError(
            f"{text!r} matches {len(exact)} products in {dataset.name}: give the SKU, e.g. "
            f"{exact['key'].iloc[0]!r}."
        )
    close = difflib.get_close_matches(text, options["label"].tolist(), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise NotFound(f"No product {text!r} in {dataset.name}.{hint}")


def saved_segments(store, user) -> dict[str, Audience]:
    """Audiences from the segments of saved segmentation runs: 'run: segment' -> audience."""
    from core.segmentation.runs import list_runs  # segmentation's public surface

    found: dict[str, Audience] = {}
    for run in list_runs(store, user):
        for profile in run.summary.get("segments", []):
            if not profile.get("customers"):
                continue
            audience = audience_from_segment(profile)
            label = f"{run.name}: {audience.name}"
            found[label] = replace(audience, source=f"segmentation run {run.name} ({run.dataset})")
    return found


def has_products(dataset: Dataset) -> bool:
    """Whether copy can be grounded on this dataset's products."""
    return bool(dataset.column_for("product") or dataset.column_for("sku"))


def best_product_dataset(datasets: Sequence[Dataset]) -> Dataset | None:
    """The dataset that best describes products: a name, a price, 'product' in its name."""
    scored = [
        (
            2 * bool(d.column_for("product"))
            + bool(d.column_for("price"))
            + ("product" in d.name.lower()),
            d,
        )
        for d in datasets
        if has_products(d)
    ]
    return max(scored, key=lambda pair: pair[0])[1] if scored else None

"""Transport emissions: tonnes x km x a factor per mode (the GLEC Framework / ISO 14083 method).

A factor table maps each transport mode, optionally by distance band, to kg CO2e per
tonne-km. Beacon ships the UK government's conversion factors (DESNZ, "freighting
goods") for the modes its shipments use; an admin may replace the table
(core.supply_chain.carbon_tables), and every result names the table version it used.
Air freight uses DESNZ's short-haul air factor, the only air factor in the default
table, so air legs are shown with that caveat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserInputError

MODES = ("road", "rail", "sea", "air")
# Other spellings found in shipment data, mapped onto Beacon's four modes.
MODE_ALIASES = {
    "truck": "road", "hgv": "road", "lorry": "road", "road": "road",
    "train": "rail", "rail": "rail",
    "ocean": "sea", "sea": "sea", "ship": "sea", "vessel": "sea",
    "air": "air", "plane": "air", "airfreight": "air", "air freight": "air",
}  # fmt: skip
MAX_FACTOR = 50.0  # kg CO2e per tonne-km; far above any freight mode, catches unit mistakes


@dataclass(frozen=True, slots=True)
class Factor:
    """kg CO2e per tonne-km for a mode up to `max_km` (None: any distance)."""

    mode: str
    label: str
    kg_per_tkm: float
    max_km: float | None = None


@dataclass(frozen=True, slots=True)
class FactorTable:
    """A versioned factor table (version 0 is Beacon's built-in default)."""

    version: int
    name: str
    source: str
    factors: tuple[Factor, ...]

    @property
    def label(self) -> str:
        """'v3 name' for display and for recording in results."""
        return f"v{self.version} {self.name}"

    def frame(self) -> pd.DataFrame:
        """The factors as a table (mode, label, kg_per_tkm, max_km)."""
        return pd.DataFrame(
            [(f.mode, f.label, f.kg_per_tkm, f.max_km) for f in self.factors],
            columns=["mode", "label", "kg_per_tkm", "max_km"],
        )


SHORT_SEA_MAX_KM = 2000.0  # Beacon's cut: sea legs up to 2,000 km count as short-sea
DEFAULT = FactorTable(
    version=0,
    name="DESNZ freighting goods",
    source=(
        "UK Government GHG Conversion Factors for Company Reporting (Department for Energy "
        "Security and Net Zero), freighting goods, kg CO2e per tonne-km. Sea legs up to "
        "2,000 km use the short-sea factor, longer ones deep-sea container; air uses the "
        "short-haul factor (the table has no long-haul air factor)."
    ),
    factors=(
        Factor("road", "HGV", 0.126),
        Factor("rail", "Rail freight", 0.0316),
        Factor("sea", "Short-sea", 0.0297, SHORT_SEA_MAX_KM),
        Factor("sea", "Deep-sea container", 0.0154),
        Factor("air", "Short-haul air freight", 1.735),
    ),
)


@dataclass(frozen=True, slots=True)
class CarbonResult:
    """Emissions per shipment and rolled up, with the factor table version used.

    shipments: supplier_id, sku, mode, distance_km, tonnes, tonne_km, factor, kg_co2e
    by_lane: supplier_id, mode, shipments, tonne_km, kg_co2e, share
    by_supplier / by_sku: the same keyed on supplier_id / sku
    """

    shipments: pd.DataFrame
    by_lane: pd.DataFrame
    by_supplier: pd.DataFrame
    by_sku: pd.DataFrame
    total_kg: float
    table_version: int
    table_name: str
    notes: tuple[str, ...]


def normalise_mode(value: object) -> str | None:
    """Beacon's mode for a spelling in the data, or None when unknown."""
    return MODE_ALIASES.get(" ".join(str(value).split()).casefold())


def factors_for(table: FactorTable, modes: pd.Series, km: pd.Series) -> pd.Series:
    """The factor for each (mode, distance): the narrowest band that holds the distance."""
    out = pd.Series(np.nan, index=modes.index, dtype=float)
    bands = sorted(
        table.factors, key=lambda f: (f.mode, math.inf if f.max_km is None else f.max_km)
    )
    for factor in reversed(bands):  # wider bands first, narrower ones overwrite
        hit = modes == factor.mode
        if factor.max_km is not None:
            hit &= km <= factor.max_km
        out[hit] = factor.kg_per_tkm
    return out


def _weights(shipments: pd.DataFrame, skus: pd.DataFrame | None) -> pd.Series:
    if "weight_kg" in shipments.columns:
        return pd.to_numeric(shipments["weight_kg"], errors="coerce")
    if skus is not None and {"sku", "weight_kg"} <= set(skus.columns) and "quantity" in shipments:
        unit = skus.drop_duplicates("sku").set_index("sku")["weight_kg"]
        return shipments["quantity"] * shipments["sku"].map(unit)
    raise UserInputError("Carbon needs each shipment's weight_kg (or SKU weights and quantities).")


def _rollup(frame: pd.DataFrame, keys: list[str], total: float) -> pd.DataFrame:
    out = frame.groupby(keys, dropna=False).agg(
        shipments=("kg_co2e", "size"), tonne_km=("tonne_km", "sum"), kg_co2e=("kg_co2e", "sum")
    )
    out["share"] = out["kg_co2e"] / total if total > 0 else 0.0
    return out.reset_index().sort_values("kg_co2e", ascending=False, ignore_index=True)


def emissions(
    shipments: pd.DataFrame, table: FactorTable = DEFAULT, skus: pd.DataFrame | None = None
) -> CarbonResult:
    """kg CO2e per shipment = weight (t) x distance (km) x factor, and per lane, supplier, SKU."""
    if shipments is None or shipments.empty:
        raise UserInputError("Carbon needs shipments with mode, distance_km and weight_kg.")
    if not {"mode", "distance_km"} <= set(shipments.columns):
        raise UserInputError("Carbon needs the shipments' mode and distance_km columns.")
    modes = shipments["mode"].map(normalise_mode)
    km = pd.to_numeric(shipments["distance_km"], errors="coerce")
    tonnes = _weights(shipments, skus) / 1000.0
    frame = pd.DataFrame(
        {
            "supplier_id": shipments["supplier_id"].astype(str)
            if "supplier_id" in shipments
            else "",
            "sku": shipments["sku"].astype(str) if "sku" in shipments else "",
            "mode": modes,
            "distance_km": km,
            "tonnes": tonnes,
        }
    )
    frame["tonne_km"] = frame["tonnes"] * frame["distance_km"]
    frame["factor"] = factors_for(table, frame["mode"], frame["distance_km"])
    frame["kg_co2e"] = frame["tonne_km"] * frame["factor"]
    notes = []
    unknown = shipments.loc[modes.isna(), "mode"].astype(str).unique()
    if len(unknown):
        notes.append(f"Modes not in the factor table were left out: {', '.join(sorted(unknown))}.")
    unfactored = frame["mode"].notna() & frame["factor"].isna()
    if unfactored.any():
        missing = ", ".join(sorted(frame.loc[unfactored, "mode"].unique()))
        notes.append(
            f"The factor table has no factor for: {missing}; those shipments are left out."
        )
    bad = frame["tonne_km"].isna() & frame["factor"].notna()
    if bad.any():
        notes.append(f"{int(bad.sum())} shipment(s) without a weight or distance were left out.")
    if (frame["mode"] == "air").any() and any(
        f.mode == "air" and "short" in f.label.casefold() for f in table.factors
    ):
        notes.append("Air legs use the short-haul air factor, which overstates long-haul flights.")
    used = frame.dropna(subset=["kg_co2e"])
    total = float(used["kg_co2e"].sum())
    return CarbonResult(
        shipments=frame,
        by_lane=_rollup(used, ["supplier_id", "mode"], total),
        by_supplier=_rollup(used, ["supplier_id"], total),
        by_sku=_rollup(used, ["sku"], total),
        total_kg=total,
        table_version=table.version,
        table_name=table.name,
        notes=tuple(notes),
    )


def parse_factors(frame: pd.DataFrame) -> tuple[Factor, ...]:
    """Validate an uploaded or edited factor table (mode, kg_per_tkm, optional label, max_km)."""
    if not {"mode", "kg_per_tkm"} <= set(frame.columns):
        raise UserInputError("A factor table needs the columns mode and kg_per_tkm.")
    if len(frame) > 100:
        raise UserInputError("A factor table has at most 100 rows.")
    factors: list[Factor] = []
    for i, row in enumerate(frame.to_dict("records"), start=1):
        raw = row.get("mode")
        if raw is None or (isinstance(raw, float) and math.isnan(raw)) or not str(raw).strip():
            continue
        mode = normalise_mode(raw)
        if mode is None:
            raise UserInputError(f"Row {i}: unknown mode {raw!r}; use {', '.join(MODES)}.")
        value = _number(row.get("kg_per_tkm"))
        if value is None or not 0 <= value <= MAX_FACTOR:
            raise UserInputError(
                f"Row {i}: kg_per_tkm must be a number from 0 to {MAX_FACTOR:g} "
                "(kg CO2e per tonne-km)."
            )
        max_km = _number(row.get("max_km"))
        if max_km is not None and max_km <= 0:
            raise UserInputError(f"Row {i}: max_km must be above 0 or left empty.")
        label = row.get("label")
        label = (
            mode
            if label is None or (isinstance(label, float) and math.isnan(label))
            else str(label)
        )
        factors.append(Factor(mode, label.strip()[:80] or mode, value, max_km))
    if not factors:
        raise UserInputError("The factor table has no rows.")
    for mode in {f.mode for f in factors}:
        bands = [f.max_km for f in factors if f.mode == mode]
        if bands.count(None) != 1:
            raise UserInputError(
                f"Mode {mode}: give exactly one row without max_km (any distance)."
            )
        if len(set(bands)) != len(bands):
            raise UserInputError(f"Mode {mode}: two rows share the same max_km.")
    return tuple(factors)


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{value!r} is not a number.") from None
    if math.isinf(number):
        raise UserInputError(f"{value!r} is not a finite number.")
    return None if math.isnan(number) else number

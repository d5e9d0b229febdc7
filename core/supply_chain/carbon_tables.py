"""Versions of the emission factor table in the store; admins add new ones, all users read."""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.store import Store
from core.supply_chain.carbon import DEFAULT, Factor, FactorTable, parse_factors
from core.supply_chain.models import CarbonFactorTableRow

MAX_UPLOAD_BYTES = 200_000


def _table(row: CarbonFactorTableRow) -> FactorTable:
    factors = tuple(
        Factor(f["mode"], f["label"], float(f["kg_per_tkm"]), f.get("max_km")) for f in row.factors
    )
    return FactorTable(row.id, row.name, row.source, factors)


def current(store: Store, user: User) -> FactorTable:
    """The table in use: the newest saved version, else Beacon's default (version 0)."""
    require(user, Role.VIEWER, "Reading emission factors")
    with store.session() as s:
        row = s.scalar(select(CarbonFactorTableRow).order_by(CarbonFactorTableRow.id.desc()))
        return DEFAULT if row is None else _table(row)


def versions(store: Store, user: User) -> list[FactorTable]:
    """Every saved version, newest first, then the built-in default."""
    require(user, Role.VIEWER, "Reading emission factors")
    with store.session() as s:
        rows = s.scalars(select(CarbonFactorTableRow).order_by(CarbonFactorTableRow.id.desc()))
        return [*(_table(r) for r in rows), DEFAULT]


def get(store: Store, user: User, version: int) -> FactorTable:
    """One version (0 is the built-in default)."""
    require(user, Role.VIEWER, "Reading emission factors")
    if version == 0:
        return DEFAULT
    with store.session() as s:
        row = s.get(CarbonFactorTableRow, version)
        if row is None:
            raise NotFound(f"There is no emission factor table version {version}.")
        return _table(row)


def save(
    store: Store, user: User, name: str, source: str, factors: tuple[Factor, ...]
) -> FactorTable:
    """Add a new version and put it in use (admins); name and source are required."""
    require(user, Role.ADMIN, "Replacing the emission factor table")
    name, source = " ".join(name.split()), source.strip()
    if not name or len(name) > 200:
        raise UserInputError("Name the factor table (1-200 characters), e.g. 'DESNZ 2025'.")
    if not source or len(source) > 2000:
        raise UserInputError("Say where the factors come from (publisher, edition, units).")
    if not factors:
        raise UserInputError("The factor table has no rows.")
    payload = [
        {"mode": f.mode, "label": f.label, "kg_per_tkm": f.kg_per_tkm, "max_km": f.max_km}
        for f in factors
    ]
    with store.session() as s:
        row = CarbonFactorTableRow(name=name, source=source, factors=payload, created_by=user.email)
        s.add(row)
        s.flush()
        audit.record(
            s, user, "supply.carbon_factors.save", f"v{row.id}", name=name, rows=len(payload)
        )
        return _table(row)


def read_upload(data: bytes) -> tuple[Factor, ...]:
    """Factors from an uploaded CSV (mode, kg_per_tkm, optional label and max_km)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserInputError("A factor table file is at most 200 KB.")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise UserInputError("The factor table is not a readable CSV file.") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return parse_factors(frame)

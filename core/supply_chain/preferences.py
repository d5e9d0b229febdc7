"""Stored supply-chain choices: scorecard weights, the country risk table, required certifications.

Who may change what is decided here: analysts save their own scorecard weights, admins
the shared (global) weights, the country table and the required certifications.
Everyone signed in reads them. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.errors import UserInputError
from core.store import Store
from core.store.models import utcnow
from core.supply_chain import countries
from core.supply_chain.models import SupplyChoiceRow
from core.supply_chain.risks import DEFAULT_CERTIFICATIONS
from core.supply_chain.suppliers import DEFAULT_WEIGHTS, check_weights

GLOBAL = "global"
WEIGHTS, COUNTRIES, CERTIFICATIONS = "scorecard_weights", "country_risk", "required_certifications"
MAX_CERTIFICATIONS = 30


def _user_scope(user: User) -> str:
    return f"user:{user.email}"


def _get(store: Store, scope: str, key: str) -> Any:
    with store.session() as s:
        row = s.scalar(
            select(SupplyChoiceRow).where(
                SupplyChoiceRow.scope == scope, SupplyChoiceRow.key == key
            )
        )
        return None if row is None else row.value


def _put(store: Store, user: User, scope: str, key: str, value: Any, **detail: Any) -> None:
    with store.session() as s:
        row = s.scalar(
            select(SupplyChoiceRow).where(
                SupplyChoiceRow.scope == scope, SupplyChoiceRow.key == key
            )
        )
        if row is None:
            row = SupplyChoiceRow(scope=scope, key=key, value=value, updated_by=user.email)
            s.add(row)
        row.value, row.updated_by, row.updated_at = value, user.email, utcnow()
        audit.record(s, user, f"supply.{key}.save", scope, **detail)


def weights(store: Store, user: User) -> dict[str, float]:
    """The weights `user` sees: their own if saved, else the shared ones, else the defaults."""
    require(user, Role.VIEWER, "Reading scorecard weights")
    for scope in (_user_scope(user), GLOBAL):
        saved = _get(store, scope, WEIGHTS)
        if saved:
            return {k: float(saved.get(k, 0.0)) for k in DEFAULT_WEIGHTS}
    return dict(DEFAULT_WEIGHTS)


def save_weights(
    store: Store, user: User, values: Mapping[str, float], *, shared: bool = False
) -> dict[str, float]:
    """Save scorecard weights for `user` (analysts) or for everyone (`shared`, admins)."""
    if shared:
        require(user, Role.ADMIN, "Saving the shared scorecard weights")
    else:
        require(user, Role.ANALYST, "Saving scorecard weights")
    clean = check_weights(values)
    scope = GLOBAL if shared else _user_scope(user)
    _put(store, user, scope, WEIGHTS, clean, **clean)
    return clean


def country_table(store: Store, user: User) -> dict[str, tuple[int, str]]:
    """The country risk table in use (the admin's, else Beacon's default)."""
    require(user, Role.VIEWER, "Reading the country risk table")
    saved = _get(store, GLOBAL, COUNTRIES)
    if saved is None:
        return dict(countries.DEFAULT_TABLE)
    return {k: (int(v[0]), str(v[1])) for k, v in saved.items()}


def save_country_table(
    store: Store, user: User, table: Mapping[str, tuple[int, str]]
) -> dict[str, tuple[int, str]]:
    """Replace the country risk table (admins); `table` comes from countries.parse_table."""
    require(user, Role.ADMIN, "Editing the country risk table")
    if not table:
        raise UserInputError("The country table is empty: keep at least one country.")
    value = {k: [int(v[0]), str(v[1])] for k, v in table.items()}
    _put(store, user, GLOBAL, COUNTRIES, value, countries=len(value))
    return country_table(store, user)


def required_certifications(store: Store, user: User) -> tuple[str, ...]:
    """Certifications every supplier should hold (for the compliance rule)."""
    require(user, Role.VIEWER, "Reading required certifications")
    saved = _get(store, GLOBAL, CERTIFICATIONS)
    return DEFAULT_CERTIFICATIONS if saved is None else tuple(saved)


def parse_certifications(text: str) -> tuple[str, ...]:
    """Certifications from text separated by commas, semicolons or new lines."""
    parts = [" ".join(p.split()) for p in text.replace(";", ",").replace("\n", ",").split(",")]
    names = tuple(dict.fromkeys(p for p in parts if p))
    if len(names) > MAX_CERTIFICATIONS:
        raise UserInputError(f"List at most {MAX_CERTIFICATIONS} certifications.")
    if any(len(n) > 80 for n in names):
        raise UserInputError("A certification name has at most 80 characters.")
    return names


def save_required_certifications(
    store: Store, user: User, names: tuple[str, ...] | list[str]
) -> tuple[str, ...]:
    """Replace the required certifications (admins); an empty list turns the rule off."""
    require(user, Role.ADMIN, "Editing required certifications")
    clean = parse_certifications(", ".join(names))
    _put(store, user, GLOBAL, CERTIFICATIONS, list(clean), certifications=", ".join(clean))
    return clean

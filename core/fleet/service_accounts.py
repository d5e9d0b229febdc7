"""Service accounts: API keys for automation, their scopes, and short-lived JWTs.

An admin creates a key with the scopes it may use; the key is shown once and stored
as a keyed hash. A client sends the key itself, or exchanges it for a JWT (HS256,
15 minutes, signed and verified with joserfc, the JOSE library of the Authlib project)
so the key stays on one machine while tokens travel. A revoked account stops working
at once, including its unexpired JWTs (each request checks the account).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.config import Secret
from core.errors import NotFound, PermissionDenied, UserInputError
from core.fleet import tokens
from core.fleet.models import ServiceAccountRow
from core.fleet.tokens import TokenHasher
from core.store import Store
from core.store.models import as_utc, utcnow

SCOPES = {
    "devices:read": "List devices, their status and heartbeat history",
    "devices:write": "Add, revoke and re-enrol devices",
    "models:infer": "Send inference requests to devices (routing)",
}
ISSUER = "beacon"
JWT_SECONDS = 15 * 60
LAST_USED_EVERY = timedelta(minutes=1)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """An API key's account as pages show it (no key)."""

    id: int
    name: str
    key_hint: str
    scopes: tuple[str, ...]
    active: bool
    created_by: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated service account and the scopes of this request."""

    name: str
    scopes: frozenset[str]

    def as_user(self) -> User:
        """The acting user core services see for this account's calls (audited by name)."""
        return User(id=0, email=f"key:{self.name}", role=Role.ADMIN, name=self.name)


def _account(row: ServiceAccountRow) -> ServiceAccount:
    return ServiceAccount(
        id=row.id,
        name=row.name,
        key_hint=row.key_hint,
        scopes=tuple(row.scopes or ()),
        active=row.active,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        last_used_at=as_utc(row.last_used_at),
    )


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Known scopes, de-duplicated, in registry order."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = wanted - set(SCOPES)
    if unknown:
        raise UserInputError(
            f"Unknown scope(s) {', '.join(sorted(unknown))}: choose from {', '.join(SCOPES)}."
        )
    if not wanted:
        raise UserInputError(f"Give the key at least one scope: {', '.join(SCOPES)}.")
    return tuple(s for s in SCOPES if s in wanted)


def create_key(
    store: Store, hasher: TokenHasher, user: User, name: str, scopes: Iterable[str]
) -> tuple[ServiceAccount, str]:
    """A new service account; returns it and its API key (shown once)."""
    require(user, Role.ADMIN, "Managing API keys")
    name = name.strip()
    if not _NAME.match(name):
        raise UserInputError("A key name has 1-64 letters, digits, '_', '-' or '.'.")
    chosen = check_scopes(scopes)
    key = tokens.new_token(tokens.API_KEY)
    try:
        with store.session() as s:
            row = ServiceAccountRow(
                name=name,
                key_hash=hasher.digest(key),
                key_hint=tokens.hint(key),
                scopes=list(chosen),
                active=True,
                created_by=user.email,
            )
            s.add(row)
            s.flush()
            audit.record(s, user, "api_key.create", name, scopes=list(chosen))
            return _account(row), key
    except IntegrityError:
        raise UserInputError(f"An API key named {name!r} already exists.") from None


def list_keys(store: Store, user: User) -> list[ServiceAccount]:
    """Every service account, by name."""
    require(user, Role.ADMIN, "Managing API keys")
    with store.session() as s:
        return [
            _account(r)
            for r in s.scalars(select(ServiceAccountRow).order_by(ServiceAccountRow.name))
        ]


def revoke_key(store: Store, user: User, name: str) -> ServiceAccount:
    """Disable a key and every JWT issued for it."""
    require(user, Role.ADMIN, "Managing API keys")
    with store.session() as s:
        row = s.scalar(select(ServiceAccountRow).where(ServiceAccountRow.name == name))
        if row is None:
            raise NotFound(f"No API key named {name!r}.")
        row.active = False
        audit.record(s, user, "api_key.revoke", name)
        return _account(row)


def _active(store: Store, column, value: str) -> ServiceAccountRow:
    with store.session() as s:
        row = s.scalar(select(ServiceAccountRow).where(column == value))
        if row is None or not row.active:
            raise PermissionDenied("The API key is not valid or was revoked.")
        now = utcnow()
        last = as_utc(row.last_used_at)
        if last is None or now - last > LAST_USED_EVERY:  # not a write per request
            s.execute(
                update(ServiceAccountRow)
                .where(ServiceAccountRow.id == row.id)
                .values(last_used_at=now)
            )
        s.expunge(row)
        return row


def authenticate_key(store: Store, hasher: TokenHasher, key: str) -> Principal:
    """The service account holding API key `key`, or PermissionDenied."""
    if not key.startswith(tokens.API_KEY):
        raise PermissionDenied("Not an API key.")
    row = _active(store, ServiceAccountRow.key_hash, hasher.digest(key))
    return Principal(row.name, frozenset(row.scopes or ()))


def _signing_key(secret_key: Secret | None) -> OctKey:
    if secret_key is None:
        raise UserInputError(
            "JWTs need BEACON_SECRET_KEY on the API host (generate one with "
            "`python -m core fleet secret-key`); send the API key itself meanwhile."
        )
    first = secret_key.reveal().split(",")[0].strip().encode("ascii")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"beacon api jwt")
    return OctKey.import_key(derived.derive(first))


def issue_jwt(
    principal: Principal,
    secret_key: Secret | None,
    *,
    scopes: Iterable[str] | None = None,
    seconds: int = JWT_SECONDS,
    now: float | None = None,
) -> tuple[str, int]:
    """A signed token for `principal` with its scopes (or a subset); returns it and its TTL."""
    granted = principal.scopes
    if scopes is not None:
        wanted = frozenset(check_scopes(scopes))
        if not wanted <= granted:
            raise PermissionDenied(f"The key may not grant {', '.join(sorted(wanted - granted))}.")
        granted = wanted
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "sub": principal.name,
        "iat": issued,
        "exp": issued + seconds,
        "scope": " ".join(sorted(granted)),
    }
    token = jwt.encode({"alg": "HS256"}, claims, _signing_key(secret_key))
    return token, seconds


def verify_jwt(
    store: Store, token: str, secret_key: Secret | None, *, now: float | None = None
) -> Principal:
    """The principal of a valid, unexpired Beacon JWT whose account is still active."""
    try:
        decoded = jwt.decode(token, _signing_key(secret_key), algorithms=["HS256"])
        JWTClaimsRegistry(
            now=int(now) if now is not None else None,
            iss={"essential": True, "value": ISSUER},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
    except JoseError as exc:
        raise PermissionDenied(f"The token is not valid ({exc.error}).") from None
    claims = decoded.claims
    row = _active(store, ServiceAccountRow.name, str(claims["sub"]))
    scopes = frozenset(str(claims.get("scope", "")).split()) & frozenset(row.scopes or ())
    return Principal(row.name, scopes)

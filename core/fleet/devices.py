"""The device registry: what each edge device is, where, and how it proves who it is.

Life of a device: an admin adds it and gets a one-time enrolment token (shown once,
valid for a few days); the device exchanges the token for its own credential, which
it sends with every request. The credential can be rotated by the device, revoked by
an admin (the device must be re-enrolled with a new token) or retired with the device.
Tokens and credentials are stored as keyed hashes only (core.fleet.tokens).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, PermissionDenied, UserInputError
from core.fleet import tokens
from core.fleet.models import DeviceRow
from core.fleet.tokens import TokenHasher
from core.store import Store
from core.store.models import as_utc, utcnow

KINDS = {
    "raspberry-pi": "Raspberry Pi",
    "jetson": "NVIDIA Jetson",
    "x86-gateway": "x86 gateway",
    "mobile": "Phone or tablet",
    "iot": "IoT board",
}
PENDING, ACTIVE, REVOKED, RETIRED = "pending", "active", "revoked", "retired"
ENROLMENT_DAYS = 7
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:=\-]{0,39}$")
MAX_TAGS = 20


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """What an admin enters for a device."""

    name: str
    kind: str
    arch: str = ""
    os: str = ""
    tags: tuple[str, ...] = ()
    site: str = ""
    lat: float | None = None
    lon: float | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """A device as pages, the CLI and the API see it (no secrets)."""

    id: int
    name: str
    kind: str
    arch: str
    os: str
    tags: tuple[str, ...]
    site: str
    lat: float | None
    lon: float | None
    capabilities: Mapping[str, Any]
    notes: str
    status: str
    created_by: str
    created_at: datetime
    enrolled_at: datetime | None
    enrol_expires_at: datetime | None
    credential_issued_at: datetime | None
    last_seen_at: datetime | None
    last_status: Mapping[str, Any] = field(default_factory=dict)
    heartbeat_count: int = 0

    @property
    def health(self) -> str:
        """Health from the latest heartbeat (unknown before the first)."""
        return str(self.last_status.get("health", "unknown"))


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A device and its one-time enrolment token (shown once, never stored)."""

    device: Device
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who an authenticated request comes from."""

    id: int
    name: str
    status: str


def _device(row: DeviceRow) -> Device:
    return Device(
        id=row.id,
        name=row.name,
        kind=row.kind,
        arch=row.arch,
        os=row.os,
        tags=tuple(row.tags or ()),
        site=row.site,
        lat=row.lat,
        lon=row.lon,
        capabilities=dict(row.capabilities or {}),
        notes=row.notes,
        status=row.status,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        enrolled_at=as_utc(row.enrolled_at),
        enrol_expires_at=as_utc(row.enrol_expires_at),
        credential_issued_at=as_utc(row.credential_issued_at),
        last_seen_at=as_utc(row.last_seen_at),
        last_status=dict(row.last_status or {}),
        heartbeat_count=row.heartbeat_count or 0,
    )


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags lower-cased, de-duplicated and checked (e.g. 'store-12', 'line:a')."""
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag:
            continue
        if not _TAG.match(tag):
            raise UserInputError(
                f"Tag {tag!r}: use up to 40 lower-case letters, digits, '-', '_', '.', ':' or '='."
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise UserInputError(f"A device has at most {MAX_TAGS} tags.")
    return tuple(cleaned)


def _check(spec: DeviceSpec) -> DeviceSpec:
    name = spec.name.strip()
    if not _NAME.match(name):
        raise UserInputError(
            "A device name has 1-64 letters, digits, '_', '-' or '.', starting with a "
            "letter or digit."
        )
    if spec.kind not in KINDS:
        raise UserInputError(f"Device kind must be one of {', '.join(KINDS)}.")
    lat, lon = spec.lat, spec.lon
    if (lat is None) != (lon is None):
        raise UserInputError("Give both latitude and longitude, or neither.")
    if lat is not None and lon is not None:
        if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon)):
            raise UserInputError("Latitude must be between -90 and 90.")
        if not -180 <= lon <= 180:
            raise UserInputError("Longitude must be between -180 and 180.")
    return DeviceSpec(
        name=name,
        kind=spec.kind,
        arch=spec.arch.strip()[:30],
        os=spec.os.strip()[:100],
        tags=clean_tags(spec.tags),
        site=spec.site.strip()[:100],
        lat=lat,
        lon=lon,
        notes=spec.notes.strip()[:5000],
    )


def _row(session: Session, name: str) -> DeviceRow:
    row = session.scalar(select(DeviceRow).where(DeviceRow.name == name))
    if row is None:
        raise NotFound(f"No device named {name!r}.")
    return row


def _issue_enrolment(row: DeviceRow, hasher: TokenHasher, days: int) -> tuple[str, datetime]:
    token = tokens.new_token(tokens.ENROLMENT)
    expires = utcnow() + timedelta(days=days)
    row.enrol_token_hash, row.enrol_expires_at = hasher.digest(token), expires
    return token, expires


# --- admin side ---------------------------------------------------------------------


def add_device(
    store: Store, hasher: TokenHasher, user: User, spec: DeviceSpec, *, days: int = ENROLMENT_DAYS
) -> Enrolment:
    """Register a device; returns it with its one-time enrolment token."""
    require(user, Role.ADMIN, "Managing devices")
    spec = _check(spec)
    try:
        with store.session() as s:
            row = DeviceRow(
                name=spec.name,
                kind=spec.kind,
                arch=spec.arch,
                os=spec.os,
                tags=list(spec.tags),
                site=spec.site,
                lat=spec.lat,
                lon=spec.lon,
                capabilities={},
                notes=spec.notes,
                status=PENDING,
                desired_state={"models": []},
                created_by=user.email,
                last_status={},
                heartbeat_count=0,
            )
            token, expires = _issue_enrolment(row, hasher, days)
            s.add(row)
            s.flush()
            audit.record(s, user, "device.create", spec.name, kind=spec.kind, tags=list(spec.tags))
            return Enrolment(_device(row), token, expires)
    except IntegrityError:
        raise UserInputError(f"A device named {spec.name!r} already exists.") from None


def list_devices(store: Store, user: User, *, include_retired: bool = True) -> list[Device]:
    """Every device, by name."""
    require(user, Role.ADMIN, "Managing devices")
    query = select(DeviceRow).order_by(DeviceRow.name)
    if not include_retired:
        query = query.where(DeviceRow.status != RETIRED)
    with store.session() as s:
        return [_device(r) for r in s.scalars(query)]


def get_device(store: Store, user: User, name: str) -> Device:
    """One device by name."""
    require(user, Role.ADMIN, "Managing devices")
    with store.session() as s:
        return _device(_row(s, name))


def update_device(store: Store, user: User, name: str, spec: DeviceSpec) -> Device:
    """Change a device's description: kind, platform, tags, location, notes."""
    require(user, Role.ADMIN, "Managing devices")
    spec = _check(spec)
    with store.session() as s:
        row = _row(s, name)
        if spec.name != name:
            raise UserInputError("A device keeps its name; retire it and add a new one instead.")
        row.kind, row.arch, row.os = spec.kind, spec.arch, spec.os
        row.tags, row.site, row.lat, row.lon = list(spec.tags), spec.site, spec.lat, spec.lon
        row.notes = spec.notes
        audit.record(s, user, "device.update", name, tags=list(spec.tags), site=spec.site)
        return _device(row)


def set_tags(store: Store, user: User, name: str, tags: Iterable[str]) -> Device:
    """Replace a device's tags."""
    require(user, Role.ADMIN, "Managing devices")
    cleaned = clean_tags(tags)
    with store.session() as s:
        row = _row(s, name)
        before = list(row.tags or [])
        row.tags = list(cleaned)
        audit.record(s, user, "device.tag", name, before=before, after=list(cleaned))
        return _device(row)


def reissue_enrolment(
    store: Store, hasher: TokenHasher, user: User, name: str, *, days: int = ENROLMENT_DAYS
) -> Enrolment:
    """A new one-time token; the device's current credential stops working at once."""
    require(user, Role.ADMIN, "Managing devices")
    with store.session() as s:
        row = _row(s, name)
        if row.status == RETIRED:
            raise UserInputError(f"{name} is retired: add a new device instead.")
        token, expires = _issue_enrolment(row, hasher, days)
        row.credential_hash, row.credential_issued_at = None, None
        row.status = PENDING
        audit.record(s, user, "device.reissue_enrolment", name)
        return Enrolment(_device(row), token, expires)


def revoke(store: Store, user: User, name: str) -> Device:
    """Stop a device's credential and any pending enrolment token at once."""
    require(user, Role.ADMIN, "Managing devices")
    with store.session() as s:
        row = _row(s, name)
        row.credential_hash = row.enrol_token_hash = None
        row.credential_issued_at = row.enrol_expires_at = None
        if row.status != RETIRED:
            row.status = REVOKED
        audit.record(s, user, "device.revoke", name)
        return _device(row)


def retire(store: Store, user: User, name: str) -> Device:
    """Take a device out of service for good (its history stays)."""
    require(user, Role.ADMIN, "Managing devices")
    with store.session() as s:
        row = _row(s, name)
        row.credential_hash = row.enrol_token_hash = None
        row.credential_issued_at = row.enrol_expires_at = None
        row.status = RETIRED
        audit.record(s, user, "device.retire", name)
        return _device(row)


# --- device side (authenticated by token or credential, not by a user) --------------


def enrol(
    store: Store,
    hasher: TokenHasher,
    token: str,
    *,
    arch: str = "",
    os: str = "",
    capabilities: Mapping[str, Any] | None = None,
) -> tuple[Device, str]:
    """Exchange a one-time enrolment token for a device credential (returned once)."""
    with store.session() as s:
        row = s.scalar(select(DeviceRow).where(DeviceRow.enrol_token_hash == hasher.digest(token)))
        if row is None or row.status in (REVOKED, RETIRED):
            raise PermissionDenied("The enrolment token is not valid or was already used.")
        if as_utc(row.enrol_expires_at) is None or as_utc(row.enrol_expires_at) < utcnow():
            raise PermissionDenied("The enrolment token has expired: ask an admin for a new one.")
        credential = tokens.new_token(tokens.DEVICE)
        now = utcnow()
        row.credential_hash, row.credential_issued_at = hasher.digest(credential), now
        row.enrol_token_hash = row.enrol_expires_at = None
        row.status, row.enrolled_at = ACTIVE, now
        row.arch = (arch.strip() or row.arch)[:30]
        row.os = (os.strip() or row.os)[:100]
        if capabilities is not None:
            row.capabilities = dict(capabilities)
        audit.record(s, f"device:{row.name}", "device.enrol", row.name, arch=row.arch, os=row.os)
        return _device(row), credential


def authenticate(store: Store, hasher: TokenHasher, credential: str) -> DeviceIdentity:
    """The active device holding `credential`, or PermissionDenied."""
    if not credential.startswith(tokens.DEVICE):
        raise PermissionDenied("Not a device credential.")
    return authenticate_digest(store, hasher.digest(credential))


def authenticate_digest(store: Store, digest: str) -> DeviceIdentity:
    """The active device whose credential hashes to `digest` (the API hashes once)."""
    with store.session() as s:
        found = s.execute(
            select(DeviceRow.id, DeviceRow.name, DeviceRow.status).where(
                DeviceRow.credential_hash == digest
            )
        ).first()
    if found is None or found.status != ACTIVE:
        raise PermissionDenied("The device credential is not valid (revoked or rotated?).")
    return DeviceIdentity(found.id, found.name, found.status)


def rotate_credential(store: Store, hasher: TokenHasher, device: DeviceIdentity) -> str:
    """A new credential for an authenticated device; the old one stops working at once."""
    credential = tokens.new_token(tokens.DEVICE)
    with store.session() as s:
        row = s.get(DeviceRow, device.id)
        if row is None or row.status != ACTIVE:
            raise PermissionDenied("The device credential is not valid.")
        row.credential_hash, row.credential_issued_at = hasher.digest(credential), utcnow()
        audit.record(s, f"device:{row.name}", "device.rotate_credential", row.name)
    return credential


def desired_state(store: Store, device: DeviceIdentity) -> dict[str, Any]:
    """What the device should run: the models assigned to it, and its tags."""
    with store.session() as s:
        row = s.get(DeviceRow, device.id)
        if row is None:
            raise NotFound("The device no longer exists.")
        state = dict(row.desired_state or {})
        return {"device": row.name, "tags": list(row.tags or []), "models": state.get("models", [])}

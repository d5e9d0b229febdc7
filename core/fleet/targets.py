"""Cloud targets: S3-compatible buckets admins connect Beacon to.

Credentials come either from the default AWS chain (environment, shared files,
instance roles), a named profile, or access keys the admin enters, which are stored
only as Fernet ciphertexts (core.secrets_box) and never returned whole: a target shows
the last four characters of its access key id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.auth.roles import Role, User, require
from core.config import Secret
from core.errors import NotFound, UserInputError
from core.fleet.models import CloudTargetRow
from core.fleet.providers import PROVIDERS, provider
from core.secrets_box import NO_KEY, SecretBox, mask
from core.store import Store
from core.store.models import as_utc, utcnow

CREDENTIAL_MODES = {
    "chain": "Default AWS credential chain (environment, shared files, instance role)",
    "profile": "A named profile from the shared AWS config files",
    "keys": "Access keys entered here (stored encrypted)",
}
ADDRESSING = ("auto", "path", "virtual")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
# S3's bucket rules, widened for GCS (underscores, dotted names up to 222 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._\-]{1,220}[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9\-]{0,50}$")
_PROFILE = re.compile(r"^[A-Za-z0-9_.@+\-]{1,100}$")


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """What an admin enters for a target; empty keys on an update keep the stored ones."""

    name: str
    provider: str
    bucket: str
    endpoint_url: str = ""
    region: str = ""
    prefix: str = ""
    addressing: str = "auto"
    credentials: str = "chain"
    profile: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""


@dataclass(frozen=True, slots=True)
class CloudTarget:
    """A target as pages and the CLI see it: no secret, only a hint of the key id."""

    id: int
    name: str
    provider: str
    endpoint_url: str
    region: str
    bucket: str
    prefix: str
    addressing: str
    credentials: str
    profile: str
    key_hint: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str

    @property
    def location(self) -> str:
        """s3://bucket/prefix, for display."""
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def breaker_name(self) -> str:
        """The name of this target's circuit breaker."""
        return f"cloud target {self.name}"


@dataclass(frozen=True, slots=True)
class TargetAccess:
    """A target with its decrypted keys, for building a client; never shown or logged."""

    target: CloudTarget
    access_key_id: Secret | None
    secret_access_key: Secret | None


def _target(row: CloudTargetRow) -> CloudTarget:
    return CloudTarget(
        id=row.id,
        name=row.name,
        provider=row.provider,
        endpoint_url=row.endpoint_url,
        region=row.region,
        bucket=row.bucket,
        prefix=row.prefix,
        addressing=row.addressing,
        credentials=row.credential_mode,
        profile=row.profile,
        key_hint=row.key_hint,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        last_test_at=as_utc(row.last_test_at),
        last_test_ok=row.last_test_ok,
        last_test_message=row.last_test_message,
    )


def normalise_prefix(prefix: str) -> str:
    """A key prefix without a leading slash and with one trailing slash ('' stays '')."""
    prefix = prefix.strip().strip("/")
    if ".." in prefix.split("/"):
        raise UserInputError("A prefix may not contain '..' segments.")
    return f"{prefix}/" if prefix else ""


def _check(spec: TargetSpec) -> TargetSpec:
    """A cleaned copy of `spec`, or a UserInputError saying what to fix."""
    name = spec.name.strip()
    if not _NAME.match(name):
        raise UserInputError(
            "A target name has 1-64 letters, digits, '_', '-' or '.', starting with a "
            "letter or digit."
        )
    kind = provider(spec.provider.strip().lower())
    bucket = spec.bucket.strip()
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UserInputError(
            f"{bucket!r} is not a bucket name: 3-63 lower-case letters, digits, '.' or '-'."
        )
    endpoint = spec.endpoint_url.strip().rstrip("/")
    if endpoint:
        parsed = urlparse(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise UserInputError(
                f"The endpoint must be an http(s) URL such as {kind.endpoint_hint}."
            )
    elif kind.needs_endpoint:
        raise UserInputError(f"{kind.label} needs an endpoint URL, e.g. {kind.endpoint_hint}.")
    region = spec.region.strip().lower() or kind.default_region
    if not _REGION.match(region):
        raise UserInputError(f"{region!r} is not a region name (e.g. us-east-1, eu-west-3).")
    addressing = spec.addressing.strip().lower() or "auto"
    if addressing not in ADDRESSING:
        raise UserInputError("Addressing style must be auto, path or virtual.")
    mode = spec.credentials.strip().lower()
    if mode not in CREDENTIAL_MODES:
        raise UserInputError("Credentials must be 'chain', 'profile' or 'keys'.")
    profile = spec.profile.strip()
    if mode == "profile" and not _PROFILE.match(profile):
        raise UserInputError("Name the AWS profile to use (letters, digits, '_', '-', '.').")
    return TargetSpec(
        name=name,
        provider=kind.key,
        bucket=bucket,
        endpoint_url=endpoint,
        region=region,
        prefix=normalise_prefix(spec.prefix),
        addressing=addressing,
        credentials=mode,
        profile=profile if mode == "profile" else "",
        access_key_id=spec.access_key_id.strip(),
        secret_access_key=spec.secret_access_key.strip(),
    )


def _row(session: Session, name: str) -> CloudTargetRow:
    row = session.scalar(select(CloudTargetRow).where(CloudTargetRow.name == name))
    if row is None:
        raise NotFound(f"No cloud target named {name!r}.")
    return row


def list_targets(store: Store, user: User) -> list[CloudTarget]:
    """Every cloud target, by name."""
    require(user, Role.ADMIN, "Managing cloud targets")
    with store.session() as s:
        rows = s.scalars(select(CloudTargetRow).order_by(CloudTargetRow.name))
        return [_target(r) for r in rows]


def get_target(store: Store, user: User, name: str) -> CloudTarget:
    """One cloud target by name."""
    require(user, Role.ADMIN, "Managing cloud targets")
    with store.session() as s:
        return _target(_row(s, name))


def save_target(
    store: Store, box: SecretBox, user: User, spec: TargetSpec, *, replaces: str | None = None
) -> CloudTarget:
    """Add a target, or change the one named `replaces` (empty keys keep the stored ones)."""
    require(user, Role.ADMIN, "Managing cloud targets")
    spec = _check(spec)
    try:
        with store.session() as s:
            if replaces is None:
                row = CloudTargetRow(name=spec.name, created_by=user.email)
                s.add(row)
            else:
                row = _row(s, replaces)
            _apply(row, spec, box)
            row.updated_at = utcnow()
            audit.record(
                s,
                user,
                "cloud_target.update" if replaces else "cloud_target.create",
                spec.name,
                provider=spec.provider,
                bucket=spec.bucket,
                prefix=spec.prefix,
                credentials=spec.credentials,
                **({"renamed_from": replaces} if replaces and replaces != spec.name else {}),
            )
            s.flush()
            return _target(row)
    except IntegrityError:
        raise UserInputError(f"A cloud target named {spec.name!r} already exists.") from None


def _apply(row: CloudTargetRow, spec: TargetSpec, box: SecretBox) -> None:
    if spec.credentials == "keys":
        if not box.available:  # say so before asking for anything else
            raise UserInputError(NO_KEY)
        entered = bool(spec.access_key_id or spec.secret_access_key)
        if entered and not (spec.access_key_id and spec.secret_access_key):
            raise UserInputError("Enter both the access key id and the secret access key.")
        if entered:
            row.access_key_enc = box.encrypt(spec.access_key_id)
            row.secret_key_enc = box.encrypt(spec.secret_access_key)
            row.key_hint = mask(spec.access_key_id)
        elif not row.secret_key_enc:
            raise UserInputError("Enter the access key id and secret access key.")
    else:
        row.access_key_enc = row.secret_key_enc = None
        row.key_hint = ""
    row.name = spec.name
    row.provider = spec.provider
    row.endpoint_url = spec.endpoint_url
    row.region = spec.region
    row.bucket = spec.bucket
    row.prefix = spec.prefix
    row.addressing = spec.addressing
    row.credential_mode = spec.credentials
    row.profile = spec.profile
    row.last_test_at, row.last_test_ok, row.last_test_message = None, None, ""


def delete_target(store: Store, user: User, name: str) -> None:
    """Remove a target (its stored keys go with it; objects in the bucket stay)."""
    require(user, Role.ADMIN, "Managing cloud targets")
    with store.session() as s:
        s.delete(_row(s, name))
        audit.record(s, user, "cloud_target.delete", name)


def access(store: Store, box: SecretBox, user: User, name: str) -> TargetAccess:
    """A target with its decrypted keys, for the storage client."""
    require(user, Role.ADMIN, "Using cloud targets")
    with store.session() as s:
        row = _row(s, name)
        target = _target(row)
        if row.credential_mode != "keys":
            return TargetAccess(target, None, None)
        if not row.access_key_enc or not row.secret_key_enc:
            raise UserInputError(f"Cloud target {name!r} has no keys: enter them again.")
        return TargetAccess(
            target, Secret(box.decrypt(row.access_key_enc)), Secret(box.decrypt(row.secret_key_enc))
        )


def record_test(store: Store, user: User, name: str, ok: bool, message: str) -> None:
    """Remember the outcome of the latest connection test."""
    require(user, Role.ADMIN, "Testing cloud targets")
    with store.session() as s:
        row = _row(s, name)
        row.last_test_at, row.last_test_ok, row.last_test_message = utcnow(), ok, message[:1000]


def provider_choices() -> dict[str, str]:
    """Provider key -> label, in registration order."""
    return {key: p.label for key, p in PROVIDERS.items()}

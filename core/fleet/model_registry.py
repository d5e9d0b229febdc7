"""The model registry: published edge model versions, their artifacts and manifests.

Publishing uploads the ONNX artifact, then its manifest (JSON: name, version, sha256,
input schema, target architectures, metrics, lineage), to a cloud target through its
ObjectStore (timeouts, retries and the target's circuit breaker), and only then records
the version. A failed upload leaves no registry row, and what was uploaded is removed
when the target still answers. Keys carry the digest, so two publishers racing for one
version never overwrite each other's objects: the loser's row is refused and its
objects removed. Admins only; every publish is in the audit log.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.errors import IntegrationError, NotFound, UserInputError
from core.fleet.cloud import Cloud
from core.fleet.packaging import PackagedModel
from core.fleet.registry_models import ModelVersionRow
from core.fleet.verify import require_passed
from core.services import Services
from core.store import Store
from core.store.models import as_utc, utcnow

log = logging.getLogger(__name__)
MANIFEST_FORMAT = "beacon-edge-model/1"
# ONNX Runtime publishes CPU builds for these; a device reports its own in `arch`.
DEFAULT_ARCHITECTURES = ("x86_64", "aarch64")
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_ARCH = re.compile(r"^[a-z0-9_\-]{1,30}$")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One published version of an edge model."""

    id: int
    name: str
    version: int
    kind: str
    source: str
    sha256: str
    size_bytes: int
    target_name: str
    artifact_key: str
    manifest_key: str
    input_schema: dict[str, Any]
    output_names: tuple[str, ...]
    architectures: tuple[str, ...]
    metrics: dict[str, Any]
    lineage: dict[str, Any]
    quantized: bool
    created_by: str
    created_at: datetime

    @property
    def label(self) -> str:
        """name vN, for display."""
        return f"{self.name} v{self.version}"


def _version(row: ModelVersionRow) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        name=row.name,
        version=row.version,
        kind=row.kind,
        source=row.source,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        target_name=row.target_name,
        artifact_key=row.artifact_key,
        manifest_key=row.manifest_key,
        input_schema=dict(row.input_schema or {}),
        output_names=tuple(row.output_names or ()),
        architectures=tuple(row.architectures or ()),
        metrics=dict(row.metrics or {}),
        lineage=dict(row.lineage or {}),
        quantized=bool(row.quantized),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


def check_name(name: str) -> str:
    """A valid model name (it becomes part of object keys), trimmed."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise UserInputError(
            "A model name has 1-100 letters, digits, '_', '-' or '.', starting with a "
            "letter or digit."
        )
    return name


def check_architectures(architectures: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Distinct, valid architecture names such as x86_64 or aarch64."""
    found = tuple(dict.fromkeys(a.strip().lower() for a in architectures if a.strip()))
    if not found:
        raise UserInputError("Name at least one target architecture, e.g. x86_64 or aarch64.")
    bad = [a for a in found if not _ARCH.match(a)]
    if bad:
        raise UserInputError(f"{bad[0]!r} is not an architecture name (e.g. x86_64, aarch64).")
    return found


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become None, tuples lists, keys strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def manifest(version: ModelVersion) -> dict[str, Any]:
    """The manifest published beside the artifact (what a device reads first)."""
    return _clean(
        {
            "format": MANIFEST_FORMAT,
            "name": version.name,
            "version": version.version,
            "kind": version.kind,
            "source": version.source,
            "artifact": version.artifact_key,
            "sha256": version.sha256,
            "size_bytes": version.size_bytes,
            "input_schema": version.input_schema,
            "output_names": list(version.output_names),
            "architectures": list(version.architectures),
            "quantized": version.quantized,
            "metrics": version.metrics,
            "lineage": version.lineage,
            "created_by": version.created_by,
            "created_at": version.created_at.isoformat(),
        }
    )


def manifest_bytes(version: ModelVersion) -> bytes:
    """The manifest as UTF-8 JSON."""
    return json.dumps(manifest(version), indent=2, allow_nan=False).encode("utf-8")


# --- reading ---------------------------------------------------------------------------


def list_versions(store: Store, user: User, name: str | None = None) -> list[ModelVersion]:
    """Published versions by name, newest version first (optionally of one model)."""
    require(user, Role.ADMIN, "Reading the model registry")
    query = select(ModelVersionRow).order_by(ModelVersionRow.name, ModelVersionRow.version.desc())
    if name is not None:
        query = query.where(ModelVersionRow.name == name)
    with store.session() as s:
        return [_version(r) for r in s.scalars(query)]


def get_version(store: Store, user: User, name: str, version: int) -> ModelVersion:
    """One version of a model."""
    require(user, Role.ADMIN, "Reading the model registry")
    with store.session() as s:
        row = s.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.name == name, ModelVersionRow.version == version
            )
        )
        if row is None:
            raise NotFound(f"There is no version {version} of model {name!r}.")
        return _version(row)


def get_by_id(store: Store, user: User, version_id: int) -> ModelVersion:
    """One version by its registry id (how rollouts refer to it)."""
    require(user, Role.ADMIN, "Reading the model registry")
    with store.session() as s:
        row = s.get(ModelVersionRow, version_id)
        if row is None:
            raise NotFound(f"There is no model version with id {version_id}.")
        return _version(row)


def latest(store: Store, user: User, name: str) -> ModelVersion:
    """The newest version of a model."""
    found = list_versions(store, user, name)
    if not found:
        raise NotFound(f"No model named {name!r} has been published.")
    return found[0]


# --- publishing ------------------------------------------------------------------------


def _next_version(store: Store, name: str) -> int:
    with store.session() as s:
        top = s.scalar(
            select(func.max(ModelVersionRow.version)).where(ModelVersionRow.name == name)
        )
    return int(top or 0) + 1


def publish(
    services: Services,
    user: User,
    package: PackagedModel,
    *,
    target_name: str,
    name: str | None = None,
    architectures: tuple[str, ...] | list[str] = DEFAULT_ARCHITECTURES,
    lineage: dict[str, Any] | None = None,
    cloud: Cloud | None = None,
) -> ModelVersion:
    """Upload the artifact and manifest to a cloud target, then record the version."""
    require(user, Role.ADMIN, "Publishing edge models")
    name = check_name(package.name if name is None else name)
    archs = check_architectures(architectures)
    require_passed(package.verification, package.tolerance)
    if package.size_bytes > MAX_ARTIFACT_BYTES:
        raise UserInputError(f"The model is {package.size_bytes:,} bytes; the limit is 512 MB.")
    cloud = cloud or Cloud(services.store, services.settings, services.catalog)
    bucket = cloud.open(user, target_name)
    number = _next_version(services.store, name)
    sha = package.sha256
    base = f"models/{name}/v{number}-{sha[:12]}"
    pending = ModelVersion(
        id=0,
        name=name,
        version=number,
        kind=package.kind,
        source=package.source,
        sha256=sha,
        size_bytes=package.size_bytes,
        target_name=target_name,
        artifact_key=f"{base}/model.onnx",
        manifest_key=f"{base}/manifest.json",
        input_schema=_clean(package.input_schema),
        output_names=package.output_names,
        architectures=archs,
        metrics=_clean(package.metrics()),
        lineage=_clean(package.lineage | (lineage or {})),
        quantized=package.quantized,
        created_by=user.email,
        created_at=utcnow(),
    )
    uploaded: list[str] = []
    try:
        data = package.model
        bucket.put_stream(io.BytesIO(data), pending.artifact_key, len(data))
        uploaded.append(pending.artifact_key)
        bucket.put_bytes(manifest_bytes(pending), pending.manifest_key)
        uploaded.append(pending.manifest_key)
        return _record(services.store, user, pending)
    except IntegrityError:
        _remove(bucket, uploaded)
        raise UserInputError(
            f"{name} v{number} was published by someone else a moment ago: publish again."
        ) from None
    except BaseException:
        _remove(bucket, uploaded)
        raise


def _record(store: Store, user: User, pending: ModelVersion) -> ModelVersion:
    with store.session() as s:
        row = ModelVersionRow(
            name=pending.name,
            version=pending.version,
            kind=pending.kind,
            source=pending.source,
            sha256=pending.sha256,
            size_bytes=pending.size_bytes,
            target_name=pending.target_name,
            artifact_key=pending.artifact_key,
            manifest_key=pending.manifest_key,
            input_schema=pending.input_schema,
            output_names=list(pending.output_names),
            architectures=list(pending.architectures),
            metrics=pending.metrics,
            lineage=pending.lineage,
            quantized=pending.quantized,
            created_by=pending.created_by,
            created_at=pending.created_at,
        )
        s.add(row)
        s.flush()
        audit.record(
            s,
            user,
            "model.publish",
            pending.label,
            version_id=row.id,
            cloud_target=pending.target_name,
            sha256=pending.sha256,
            size_bytes=pending.size_bytes,
            quantized=pending.quantized,
        )
        return _version(row)


def _remove(bucket: Any, keys: list[str]) -> None:
    """Best effort: take back what a failed publish uploaded (the target may be down)."""
    for key in keys:
        try:
            bucket.delete(key)
        except Exception as exc:  # never hide the error that made the publish fail
            log.warning("could not remove %s after a failed publish: %s", key, exc)


# --- artifacts -------------------------------------------------------------------------


def artifact_url(
    services: Services,
    user: User,
    version: ModelVersion,
    expires: int = 3600,
    *,
    cloud: Cloud | None = None,
) -> str:
    """A presigned GET link to the artifact, valid `expires` seconds (devices download it)."""
    require(user, Role.ADMIN, "Linking edge model artifacts")
    cloud = cloud or Cloud(services.store, services.settings, services.catalog)
    return cloud.open(user, version.target_name).presigned_url(version.artifact_key, expires)


def read_artifact(
    services: Services, user: User, version: ModelVersion, *, cloud: Cloud | None = None
) -> bytes:
    """The artifact's bytes, checked against the recorded sha256."""
    require(user, Role.ADMIN, "Reading edge model artifacts")
    cloud = cloud or Cloud(services.store, services.settings, services.catalog)
    data = cloud.open(user, version.target_name).get_bytes(
        version.artifact_key, limit=MAX_ARTIFACT_BYTES
    )
    digest = hashlib.sha256(data).hexdigest()
    if digest != version.sha256:
        raise IntegrationError(
            f"{version.label} in cloud target {version.target_name} does not match its "
            f"digest (sha256 {digest[:12]}… instead of {version.sha256[:12]}…)."
        )
    return data


def versions_table(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """One plain row per version, for tables and JSON (lineage flattened to text)."""
    return [
        {
            "id": v.id,
            "name": v.name,
            "version": v.version,
            "kind": v.kind,
            "source": v.source,
            "size_kb": round(v.size_bytes / 1024, 1),
            "quantized": v.quantized,
            "sha256": v.sha256,
            "target": v.target_name,
            "architectures": ", ".join(v.architectures),
            "lineage": ", ".join(
                f"{k}={val}" for k, val in v.lineage.items() if val is not None and k != "clusters"
            ),
            "published_by": v.created_by,
            "published_at": v.created_at,
        }
        for v in versions
    ]

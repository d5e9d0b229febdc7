"""Where rollouts find model versions: a small protocol over the model registry.

Rollouts need only a version's checksum, schema and a download link, so they depend on
`ModelCatalog`; `RegistryCatalog` is the real one (core.fleet.model_registry, artifacts
on a cloud target), tests may pass any object with the same two methods.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.auth.roles import User
from core.errors import BeaconError

log = logging.getLogger(__name__)
LINK_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a device needs to know about a model version."""

    name: str
    version: int
    sha256: str
    size_bytes: int = 0
    input_schema: Mapping[str, Any] = field(default_factory=dict)
    output_names: tuple[str, ...] = ()


class ModelCatalog(Protocol):
    """Looks up published model versions and links to their artifacts."""

    def version(self, name: str, version: int) -> ModelInfo:
        """The version, or NotFound."""
        ...

    def link(self, info: ModelInfo) -> str:
        """A URL a device can download the artifact from (time-limited)."""
        ...


class RegistryCatalog:
    """The model registry and its cloud target, acting as `user` (the system by default)."""

    def __init__(self, services: Any, user: User | None = None) -> None:
        self.services = services
        self.user = user or User.system()

    def _get(self, name: str, version: int) -> Any:
        from core.fleet import model_registry  # its tables are another branch's

        return model_registry.get_version(self.services.store, self.user, name, version)

    def version(self, name: str, version: int) -> ModelInfo:
        found = self._get(name, version)
        return ModelInfo(
            name=found.name,
            version=int(found.version),
            sha256=found.sha256,
            size_bytes=int(found.size_bytes),
            input_schema=dict(found.input_schema or {}),
            output_names=tuple(found.output_names or ()),
        )

    def link(self, info: ModelInfo) -> str:
        from core.fleet import model_registry

        found = self._get(info.name, info.version)
        return model_registry.artifact_url(self.services, self.user, found, expires=LINK_SECONDS)


class CachedCatalog:
    """Remembers versions and links for `seconds` (a link is signed for LINK_SECONDS).

    Every desired-state request needs a link; signing one opens the target's client, so
    an API process signs each version's link once per half hour instead of per request.
    """

    def __init__(self, inner: ModelCatalog, seconds: float = LINK_SECONDS / 2) -> None:
        self.inner, self.seconds = inner, seconds
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, int], tuple[float, ModelInfo]] = {}
        self._links: dict[tuple[str, int], tuple[float, str]] = {}

    def _cached(self, table: dict, key: tuple[str, int], make: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            found = table.get(key)
        if found is not None and now - found[0] < self.seconds:
            return found[1]
        value = make()
        with self._lock:
            table[key] = (now, value)
        return value

    def version(self, name: str, version: int) -> ModelInfo:
        return self._cached(
            self._versions, (name, version), lambda: self.inner.version(name, version)
        )

    def link(self, info: ModelInfo) -> str:
        return self._cached(self._links, (info.name, info.version), lambda: self.inner.link(info))


def desired_models(catalog: ModelCatalog, entries: Iterable[Mapping[str, Any]]) -> list[dict]:
    """A device's desired models with checksum, schema and download link.

    A version that cannot be resolved (removed, or its target unreachable) is left out
    with a warning: the device keeps what it runs rather than receiving a broken entry.
    """
    resolved: list[dict] = []
    for entry in entries:
        try:
            info = catalog.version(str(entry["name"]), int(entry["version"]))
            url = catalog.link(info)
        except (BeaconError, KeyError, ValueError) as exc:
            log.warning("desired model %s not resolved: %s", dict(entry), exc)
            continue
        resolved.append(
            {
                "name": info.name,
                "version": info.version,
                "sha256": info.sha256,
                "size_bytes": info.size_bytes,
                "url": url,
                "input_schema": dict(info.input_schema),
                "output_names": list(info.output_names),
            }
        )
    return resolved

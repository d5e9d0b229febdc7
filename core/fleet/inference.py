"""Test inference: send N requests for a model through the router and see where they went.

Used by the Rollouts page's "Test inference" panel, the CLI and the benchmark. Devices
are probed first (health checks open the breakers of dead devices), then the requests
go out with a few in flight at once, so least-connections has something to balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx

from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.fleet import device_models
from core.fleet.routing import (
    DeviceError,
    Routed,
    Router,
    RoutingSummary,
    http_health,
    http_transport,
    summarise,
)
from core.integrations.breaker import BREAKERS, BreakerRegistry
from core.store import Store

MAX_REQUESTS = 5000


def sample_rows(input_schema: Mapping[str, Any], rows: int = 1) -> list[list[float]]:
    """Rows of zeros shaped like a model's first input (one feature when unknown)."""
    shape = list(input_schema.get("shape") or [None, 1])
    width = shape[-1] if len(shape) > 1 and isinstance(shape[-1], int) and shape[-1] > 0 else 1
    return [[0.0] * width for _ in range(rows)]


def run_requests(
    router: Router,
    devices: Sequence[device_models.ServingDevice],
    body: Mapping[str, Any],
    requests: int,
    *,
    concurrency: int = 4,
) -> RoutingSummary:
    """Send `requests` copies of `body` (request i hashes on key 'k<i>')."""
    if not 1 <= requests <= MAX_REQUESTS:
        raise UserInputError(f"Send between 1 and {MAX_REQUESTS} requests.")

    def one(index: int) -> Routed | str:
        try:
            return router.send(devices, body, key=f"k{index}")
        except (DeviceError, UserInputError) as exc:
            return str(exc)

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        outcomes = list(pool.map(one, range(requests)))
    return summarise(router.name, outcomes)


def trial_inference(
    store: Store,
    user: User,
    model: str,
    strategy: str,
    requests: int,
    rows: list[list[Any]],
    now: datetime,
    *,
    breakers: BreakerRegistry = BREAKERS,
    concurrency: int = 4,
    timeout: float = 5.0,
) -> RoutingSummary:
    """Probe the devices serving `model`, then route `requests` requests over them."""
    require(user, Role.ADMIN, "Testing inference")
    devices = device_models.serving(store, model, now)
    if not devices:
        raise UserInputError(f"No device reports {model} active right now.")
    with httpx.Client(timeout=timeout) as client:
        router = Router(strategy, http_transport(client), breakers=breakers, timeout=timeout)
        router.check_health(devices, http_health(client))
        return run_requests(
            router, devices, {"model": model, "rows": rows}, requests, concurrency=concurrency
        )


def served_models(store: Store, user: User) -> dict[str, dict[str, Any]]:
    """Models some device reports active, with the input schema of the version it runs."""
    from core.fleet import model_registry  # the registry's tables are another branch's

    found: dict[str, dict[str, Any]] = {}
    for state in device_models.model_states(store, user):
        if state.state != "active" or state.model in found:
            continue
        try:
            version = model_registry.get_version(store, user, state.model, state.version)
            found[state.model] = dict(version.input_schema or {})
        except NotFound:  # an uploaded model removed from the registry: no example rows
            found[state.model] = {}
    return found

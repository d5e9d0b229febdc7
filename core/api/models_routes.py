"""Model endpoints: devices report what they run; automation sends inference via routing.

    POST /v1/devices/models/report   a device's per-model state and counters (device credential)
    POST /v1/infer/{model}           route one request to a device serving `model`
                                     (API key or JWT with the models:infer scope)

Device calls also drive rollouts: at most once a second per API process, a report or a
desired-state request runs `core.fleet.rollouts.tick`, so rollouts advance while
devices call in even where no workflow worker runs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, model_validator
from starlette.exceptions import HTTPException

from core.api.security import context, device, service
from core.fleet import device_models, rollouts
from core.fleet.device_models import ModelReport
from core.fleet.devices import DeviceIdentity
from core.fleet.rollout_catalog import CachedCatalog, RegistryCatalog, desired_models
from core.fleet.routing import INFER_SCOPE, DeviceError, Router, http_transport
from core.fleet.service_accounts import Principal
from core.integrations.breaker import BREAKERS
from core.store.models import utcnow

router = APIRouter(tags=["models"])
Me = Annotated[DeviceIdentity, Depends(device)]
Caller = Annotated[Principal, Depends(service(INFER_SCOPE))]
TICK_EVERY_SECONDS = 1.0
SERVING_WINDOW_SECONDS = 120.0


class ModelStateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    state: str = Field(pattern="^(downloading|installed|active|failed)$")
    sha256: str = Field("", max_length=64)
    requests: int = Field(0, ge=0, le=10**15)
    errors: int = Field(0, ge=0, le=10**15)
    p95_ms: float | None = Field(None, ge=0, le=3_600_000)
    detail: str = Field("", max_length=2000)


class ModelReportIn(BaseModel):
    endpoint: str = Field("", max_length=300, description="base URL of the device's /infer")
    models: list[ModelStateIn] = Field(default_factory=list, max_length=50)


class ModelReportOut(BaseModel):
    stored: int


class InferIn(BaseModel):
    rows: list[list[Any]] | None = Field(None, max_length=10_000)
    inputs: dict[str, Any] | None = None
    key: str | None = Field(None, max_length=200, description="consistent-hash key")
    strategy: str = "round-robin"

    @model_validator(mode="after")
    def _one_payload(self) -> InferIn:
        if (self.rows is None) == (self.inputs is None):
            raise ValueError("send either 'rows' or 'inputs'")
        return self


class InferOut(BaseModel):
    device: str
    version: int | None
    latency_ms: float
    attempts: int
    outputs: dict[str, Any]


class _Ticker:
    """Runs rollout ticks at most every TICK_EVERY_SECONDS, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    def maybe_tick(self, store) -> None:
        if time.monotonic() - self._last < TICK_EVERY_SECONDS or not self._lock.acquire(False):
            return
        try:
            self._last = time.monotonic()
            rollouts.tick_if_running(store, utcnow())  # logs a failure; the next call retries
        finally:
            self._lock.release()


def _shared(request: Request, name: str, build) -> Any:
    """A per-app object kept on app.state (built on first use)."""
    state = request.app.state
    found = getattr(state, name, None)
    if found is None:
        found = build()
        setattr(state, name, found)
    return found


def _ticker(request: Request) -> _Ticker:
    return _shared(request, "rollout_ticker", _Ticker)


async def with_artifacts(request: Request, state: dict) -> dict:
    """A device's desired state with each model's sha256, schema and download link."""
    ctx = context(request)
    await asyncio.to_thread(_ticker(request).maybe_tick, ctx.services.store)
    catalog = _shared(
        request, "model_catalog", lambda: CachedCatalog(RegistryCatalog(ctx.services))
    )
    models = await asyncio.to_thread(desired_models, catalog, state.get("models", []))
    return {**state, "models": models}


@router.post("/v1/devices/models/report", response_model=ModelReportOut)
async def report(body: ModelReportIn, request: Request, me: Me) -> ModelReportOut:
    """Store this device's model states (latest wins) and where it serves /infer."""
    ctx = context(request)
    reports = [ModelReport(**m.model_dump()) for m in body.models]
    stored = await asyncio.to_thread(
        device_models.record_report, ctx.services.store, me, body.endpoint, reports, utcnow()
    )
    await asyncio.to_thread(_ticker(request).maybe_tick, ctx.services.store)
    return ModelReportOut(stored=stored)


def _router(request: Request, strategy: str) -> Router:
    routers = _shared(request, "inference_routers", dict)
    if strategy not in routers:
        client = _shared(
            request, "inference_client", lambda: httpx.Client(timeout=5.0, follow_redirects=False)
        )
        routers[strategy] = Router(strategy, http_transport(client), breakers=BREAKERS)
    return routers[strategy]


@router.post("/v1/infer/{model}", response_model=InferOut)
async def infer(
    body: InferIn,
    request: Request,
    caller: Caller,
    model: Annotated[str, Path(min_length=1, max_length=100)],
) -> InferOut:
    """Send one inference request to a device serving `model`, chosen by the strategy."""
    ctx = context(request)
    chosen = _router(request, body.strategy)
    devices = await asyncio.to_thread(
        device_models.serving,
        ctx.services.store,
        model,
        utcnow(),
        window_seconds=SERVING_WINDOW_SECONDS,
    )
    payload = {"model": model, **({"rows": body.rows} if body.rows is not None else {})}
    if body.inputs is not None:
        payload["inputs"] = body.inputs
    try:
        routed = await asyncio.to_thread(chosen.send, devices, payload, body.key)
    except DeviceError as exc:
        raise HTTPException(503, str(exc)) from None
    answer = routed.answer
    return InferOut(
        device=routed.device,
        version=answer.get("version"),
        latency_ms=routed.latency_ms,
        attempts=routed.attempts,
        outputs=answer.get("outputs", {}),
    )

"""Device endpoints: enrol, heartbeat, desired state, credential rotation."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.exceptions import HTTPException

from core.api import models_routes, schemas
from core.api.security import (
    client_address,
    context,
    device,
    heartbeat_device,
    parse_body,
    refuse,
    throttle,
)
from core.errors import PermissionDenied
from core.fleet import devices
from core.fleet.devices import DeviceIdentity
from core.fleet.heartbeats import CredentialRevoked, Heartbeat

router = APIRouter(prefix="/v1/devices", tags=["devices"])
Me = Annotated[DeviceIdentity, Depends(device)]


@router.post("/enrol", status_code=201, response_model=schemas.EnrolOut)
async def enrol(body: schemas.EnrolIn, request: Request) -> schemas.EnrolOut:
    """Exchange a one-time enrolment token for this device's credential."""
    ctx = context(request)
    throttle(ctx, f"enrol:{client_address(request)}")
    try:
        found, credential = await asyncio.to_thread(
            devices.enrol,
            ctx.services.store,
            ctx.hasher,
            body.token,
            arch=body.arch,
            os=body.os,
            capabilities=body.capabilities.model_dump(),
        )
    except PermissionDenied as exc:
        raise refuse(ctx, request, str(exc)) from None
    request.state.principal = f"device:{found.name}"
    return schemas.EnrolOut(
        device=found.name,
        credential=credential,
        heartbeat_seconds=ctx.services.settings.fleet.heartbeat_seconds,
    )


@router.post(
    "/heartbeat",
    status_code=202,
    response_model=schemas.HeartbeatOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schemas.HeartbeatIn.model_json_schema()}},
        },
    },
)
async def heartbeat(request: Request) -> Response:
    """Report status (body: HeartbeatIn); answered once the report is stored.

    The busiest route, so it skips FastAPI's dependency and body machinery: pydantic
    parses the raw body in one step, and the answer is encoded once per process.
    """
    ctx = context(request)
    me = heartbeat_device(request)
    body = parse_body(schemas.HeartbeatIn, await request.body())
    inference = body.inference
    report = Heartbeat(
        cpu_pct=body.cpu_pct,
        mem_pct=body.mem_pct,
        temp_c=body.temp_c,
        disk_pct=body.disk_pct,
        inference_count=inference.count if inference else None,
        latency_p50_ms=inference.p50_ms if inference else None,
        latency_p95_ms=inference.p95_ms if inference else None,
        latency_p99_ms=inference.p99_ms if inference else None,
        models=tuple((m.name, m.version) for m in body.models),
        sent_at=body.sent_at,
    )
    try:
        await ctx.sink.submit_async(me.identity.id, report, me.digest)
    except CredentialRevoked as exc:
        ctx.credentials.drop(me.digest)
        raise refuse(ctx, request, str(exc)) from None
    except Exception:
        raise HTTPException(503, "The heartbeat could not be stored: send it again.") from None
    return Response(_accepted(ctx), status_code=202, media_type="application/json")


@functools.cache
def _accepted_for(next_in_seconds: int) -> bytes:
    return schemas.HeartbeatOut(next_in_seconds=next_in_seconds).model_dump_json().encode()


def _accepted(ctx) -> bytes:
    return _accepted_for(ctx.services.settings.fleet.heartbeat_seconds)


@router.get("/desired-state", response_model=schemas.DesiredStateOut)
async def desired_state(request: Request, me: Me) -> schemas.DesiredStateOut:
    """What this device should run (models assigned to it) and how often to report."""
    ctx = context(request)
    state = await asyncio.to_thread(devices.desired_state, ctx.services.store, me)
    state = await models_routes.with_artifacts(request, state)
    return schemas.DesiredStateOut(
        **state, heartbeat_seconds=ctx.services.settings.fleet.heartbeat_seconds
    )


@router.post("/credential/rotate", response_model=schemas.CredentialOut)
async def rotate(request: Request, me: Me) -> schemas.CredentialOut:
    """Replace this device's credential; the old one stops working at once."""
    ctx = context(request)
    credential = await asyncio.to_thread(
        devices.rotate_credential, ctx.services.store, ctx.hasher, me
    )
    return schemas.CredentialOut(credential=credential)

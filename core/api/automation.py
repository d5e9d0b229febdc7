"""Automation endpoints for service accounts: tokens, and the device registry by scope."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException

from core.api import schemas
from core.api.security import BEARER, authenticate_service, context, service
from core.fleet import devices, heartbeats, service_accounts
from core.fleet.devices import Device, DeviceSpec
from core.fleet.overview import device_status
from core.fleet.service_accounts import Principal
from core.store.models import utcnow

router = APIRouter(prefix="/v1", tags=["automation"])
Reader = Annotated[Principal, Depends(service("devices:read"))]
Writer = Annotated[Principal, Depends(service("devices:write"))]


def _device_out(device: Device, interval: int) -> schemas.DeviceOut:
    return schemas.DeviceOut(
        name=device.name,
        kind=device.kind,
        arch=device.arch,
        os=device.os,
        tags=list(device.tags),
        site=device.site,
        lat=device.lat,
        lon=device.lon,
        status=device.status,
        liveness=device_status(device, utcnow(), interval),
        health=device.health,
        last_seen_at=device.last_seen_at,
        heartbeats=device.heartbeat_count,
    )


@router.post("/auth/token", response_model=schemas.TokenOut)
async def token(request: Request, body: schemas.TokenIn | None = None) -> schemas.TokenOut:
    """Exchange an API key for a 15-minute JWT (optionally with fewer scopes)."""
    ctx = context(request)
    if not request.headers.get("authorization", "").lower().startswith("bearer bcn_key_"):
        raise HTTPException(401, "Send the API key itself to get a token.", BEARER)
    principal = await authenticate_service(request)
    jwt, seconds = service_accounts.issue_jwt(
        principal, ctx.services.settings.secret_key, scopes=body.scopes if body else None
    )
    granted = body.scopes if body and body.scopes else sorted(principal.scopes)
    return schemas.TokenOut(access_token=jwt, expires_in=seconds, scope=" ".join(sorted(granted)))


@router.get("/fleet/devices", response_model=list[schemas.DeviceOut])
async def list_devices(request: Request, caller: Reader) -> list[schemas.DeviceOut]:
    """Every device with its liveness and health."""
    ctx = context(request)
    found = await asyncio.to_thread(devices.list_devices, ctx.services.store, caller.as_user())
    interval = ctx.services.settings.fleet.heartbeat_seconds
    return [_device_out(d, interval) for d in found]


@router.get("/fleet/devices/{name}/heartbeats")
async def device_heartbeats(
    name: str,
    request: Request,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict]:
    """A device's latest heartbeats, oldest first."""
    ctx = context(request)
    frame = await asyncio.to_thread(
        heartbeats.history, ctx.services.store, caller.as_user(), name, limit=limit
    )
    frame["received_at"] = frame["received_at"].map(lambda t: t.isoformat())
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


@router.post("/fleet/devices", status_code=201, response_model=schemas.EnrolmentOut)
async def add_device(
    body: schemas.DeviceIn, request: Request, caller: Writer
) -> schemas.EnrolmentOut:
    """Register a device; the answer holds its one-time enrolment token."""
    ctx = context(request)
    spec = DeviceSpec(**body.model_dump() | {"tags": tuple(body.tags)})
    enrolment = await asyncio.to_thread(
        devices.add_device, ctx.services.store, ctx.hasher, caller.as_user(), spec
    )
    return schemas.EnrolmentOut(
        device=_device_out(enrolment.device, ctx.services.settings.fleet.heartbeat_seconds),
        enrolment_token=enrolment.token,
        expires_at=enrolment.expires_at,
    )


@router.post("/fleet/devices/{name}/revoke", response_model=schemas.DeviceOut)
async def revoke_device(name: str, request: Request, caller: Writer) -> schemas.DeviceOut:
    """Revoke a device's credential at once."""
    ctx = context(request)
    found = await asyncio.to_thread(devices.revoke, ctx.services.store, caller.as_user(), name)
    return _device_out(found, ctx.services.settings.fleet.heartbeat_seconds)

"""What each device runs: its latest install report per model, and who serves a model now.

Devices report after every heartbeat (POST /v1/devices/models/report): per model the
version, install state, requests and errors served by that version, p95 latency and
the address of its /infer endpoint. Rollouts advance on these reports; the router
sends inference to devices whose report says the model is active and that are alive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.auth.roles import Role, User, require
from core.errors import UserInputError
from core.fleet.devices import ACTIVE, DeviceIdentity
from core.fleet.models import DeviceRow
from core.fleet.rollout_models import DeviceModelStateRow
from core.store import Store
from core.store.models import as_utc

REPORT_STATES = ("downloading", "installed", "active", "failed")
_WEIGHT_TAG = re.compile(r"^weight=(\d{1,3})$")
_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/\-]*)?$")


@dataclass(frozen=True, slots=True)
class ModelReport:
    """One device's state of one model."""

    name: str
    version: int
    state: str
    sha256: str = ""
    requests: int = 0
    errors: int = 0
    p95_ms: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ModelState:
    """A stored report, with the device it came from."""

    device: str
    model: str
    version: int
    state: str
    requests: int
    errors: int
    p95_ms: float | None
    endpoint: str
    detail: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class ServingDevice:
    """A device that serves a model now: where, which version, and its routing weight."""

    device: str
    endpoint: str
    version: int
    weight: int = 1


def check_endpoint(endpoint: str) -> str:
    """An http(s) base URL for the device's /infer, or UserInputError."""
    endpoint = endpoint.strip().rstrip("/")
    if endpoint and not _ENDPOINT.match(endpoint):
        raise UserInputError("The endpoint must be an http(s) URL such as http://10.0.0.7:8600.")
    return endpoint


def record_report(
    store: Store,
    device: DeviceIdentity,
    endpoint: str,
    reports: Sequence[ModelReport],
    now: datetime,
) -> int:
    """Store a device's model reports (latest wins); returns how many were stored."""
    endpoint = check_endpoint(endpoint)
    for report in reports:
        if report.state not in REPORT_STATES:
            raise UserInputError(f"A model state must be one of {', '.join(REPORT_STATES)}.")
    with store.session() as s:
        existing = {
            row.model_name: row
            for row in s.scalars(
                select(DeviceModelStateRow).where(DeviceModelStateRow.device_id == device.id)
            )
        }
        for report in reports:
            row = existing.get(report.name)
            if row is None:
                row = DeviceModelStateRow(device_id=device.id, model_name=report.name)
                s.add(row)
                existing[report.name] = row
            row.version, row.state, row.sha256 = report.version, report.state, report.sha256
            row.requests, row.errors, row.p95_ms = report.requests, report.errors, report.p95_ms
            row.endpoint, row.detail, row.reported_at = endpoint, report.detail[:2000], now
    return len(reports)


def _weight(tags: Sequence[str]) -> int:
    for tag in tags:
        if found := _WEIGHT_TAG.match(tag):
            return max(1, int(found.group(1)))
    return 1


def serving(
    store: Store, model: str, now: datetime, *, window_seconds: float = 120.0
) -> list[ServingDevice]:
    """Active devices that report `model` active with an endpoint, heard from recently.

    A device's routing weight comes from a `weight=N` tag (default 1).
    """
    since = now - timedelta(seconds=window_seconds)
    with store.session() as s:
        rows = s.execute(
            select(DeviceRow.name, DeviceRow.tags, DeviceModelStateRow)
            .join(DeviceModelStateRow, DeviceModelStateRow.device_id == DeviceRow.id)
            .where(
                DeviceModelStateRow.model_name == model,
                DeviceModelStateRow.state == "active",
                DeviceModelStateRow.endpoint != "",
                DeviceRow.status == ACTIVE,
            )
            .order_by(DeviceRow.name)
        ).all()
    return [
        ServingDevice(name, state.endpoint, state.version, _weight(tags or ()))
        for name, tags, state in rows
        if as_utc(state.reported_at) >= since
    ]


def model_states(store: Store, user: User, model: str | None = None) -> list[ModelState]:
    """Every device's latest report (optionally for one model), by device."""
    require(user, Role.ADMIN, "Managing devices")
    query = (
        select(DeviceRow.name, DeviceModelStateRow)
        .join(DeviceModelStateRow, DeviceModelStateRow.device_id == DeviceRow.id)
        .order_by(DeviceRow.name, DeviceModelStateRow.model_name)
    )
    if model is not None:
        query = query.where(DeviceModelStateRow.model_name == model)
    with store.session() as s:
        rows = s.execute(query).all()
    return [
        ModelState(
            device=name,
            model=r.model_name,
            version=r.version,
            state=r.state,
            requests=r.requests,
            errors=r.errors,
            p95_ms=r.p95_ms,
            endpoint=r.endpoint,
            detail=r.detail,
            reported_at=as_utc(r.reported_at),
        )
        for name, r in rows
    ]

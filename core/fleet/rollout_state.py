"""Rollout state kept in the store: states, values, and the writes every transition shares.

Used by core.fleet.rollouts (admin actions and ticks); nothing here checks roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound
from core.fleet.models import DeviceRow
from core.fleet.rollout_models import RolloutDeviceRow, RolloutRow
from core.fleet.rollout_plans import Plan
from core.store.models import as_utc

DEVICE_STATES = (
    "pending",
    "assigned",
    "downloading",
    "installed",
    "active",
    "failed",
    "rolled_back",
)
ROLLOUT_STATES = ("draft", "running", "paused", "succeeded", "failed", "rolled_back", "aborted")
OPEN_STATES = ("draft", "running", "paused")
FINISHED_STATES = ("succeeded", "failed", "rolled_back", "aborted")
PROGRESS = {"assigned": 0, "downloading": 1, "installed": 2, "active": 3}


@dataclass(frozen=True, slots=True)
class RolloutDevice:
    """A device's place and progress in a rollout."""

    device: str
    wave: int
    state: str
    previous_version: int | None
    detail: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Rollout:
    """A rollout as pages, the CLI and events see it."""

    id: int
    model_name: str
    model_version: int
    plan: Plan
    state: str
    wave: int  # index of the current wave
    waves: int
    wave_started_at: datetime | None
    message: str
    gate: dict[str, Any]  # the latest gate verdict
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    devices: tuple[RolloutDevice, ...]

    def counts(self) -> dict[str, int]:
        """How many devices are in each state."""
        found = {state: 0 for state in DEVICE_STATES}
        for device in self.devices:
            found[device.state] += 1
        return found


@dataclass(frozen=True, slots=True)
class RolloutEvent:
    """A rollout reached a final state (for listeners such as workflow triggers)."""

    rollout_id: int
    model_name: str
    model_version: int
    state: str
    message: str


# Called inside the transaction that finishes a rollout; a listener adds its own rows.
EVENT_LISTENERS: list[Callable[[Session, RolloutEvent, datetime], None]] = []


def to_rollout(session: Session, row: RolloutRow) -> Rollout:
    members = session.execute(
        select(RolloutDeviceRow, DeviceRow.name)
        .join(DeviceRow, DeviceRow.id == RolloutDeviceRow.device_id)
        .where(RolloutDeviceRow.rollout_id == row.id)
        .order_by(RolloutDeviceRow.wave, DeviceRow.name)
    ).all()
    return Rollout(
        id=row.id,
        model_name=row.model_name,
        model_version=row.model_version,
        plan=Plan.from_json(row.plan),
        state=row.state,
        wave=row.wave,
        waves=row.waves,
        wave_started_at=as_utc(row.wave_started_at),
        message=row.message,
        gate=dict(row.gate or {}),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        finished_at=as_utc(row.finished_at),
        devices=tuple(
            RolloutDevice(name, m.wave, m.state, m.previous_version, m.detail, as_utc(m.updated_at))
            for m, name in members
        ),
    )


def load_row(session: Session, rollout_id: int, *, lock: bool = False) -> RolloutRow:
    query = select(RolloutRow).where(RolloutRow.id == rollout_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"No rollout #{rollout_id}.")
    return row


def set_desired(device: DeviceRow, model: str, version: int | None) -> None:
    """Point a device's desired state for `model` at `version` (None: remove it)."""
    state = dict(device.desired_state or {})
    models = [m for m in state.get("models", []) if m.get("name") != model]
    if version is not None:
        models.append({"name": model, "version": version})
    state["models"] = sorted(models, key=lambda m: m["name"])
    device.desired_state = state  # a new object, so the JSON column is written


def desired_version(device: DeviceRow, model: str) -> int | None:
    for entry in (device.desired_state or {}).get("models", []):
        if entry.get("name") == model:
            return int(entry["version"])
    return None


def members(session: Session, row: RolloutRow) -> list[tuple[RolloutDeviceRow, DeviceRow]]:
    return list(
        session.execute(
            select(RolloutDeviceRow, DeviceRow)
            .join(DeviceRow, DeviceRow.id == RolloutDeviceRow.device_id)
            .where(RolloutDeviceRow.rollout_id == row.id)
            .order_by(RolloutDeviceRow.wave, DeviceRow.name)
        ).all()
    )


def assign_wave(session: Session, row: RolloutRow, now: datetime) -> None:
    for member, device in members(session, row):
        if member.wave == row.wave and member.state == "pending":
            set_desired(device, row.model_name, row.model_version)
            member.state, member.updated_at = "assigned", now
    row.wave_started_at, row.updated_at = now, now


def finish(session: Session, row: RolloutRow, state: str, message: str, now: datetime) -> None:
    row.state, row.message, row.finished_at, row.updated_at = state, message, now, now
    event = RolloutEvent(row.id, row.model_name, row.model_version, state, message)
    audit.record(
        session,
        "system",
        "rollout.finished",
        f"{row.model_name} v{row.model_version}",
        rollout=row.id,
        state=state,
        message=message,
    )
    for listener in EVENT_LISTENERS:
        listener(session, event, now)


def roll_back(session: Session, row: RolloutRow, now: datetime, message: str) -> None:
    for member, device in members(session, row):
        if member.state == "pending":
            continue
        set_desired(device, row.model_name, member.previous_version)
        member.state, member.updated_at = "rolled_back", now
        back = "none" if member.previous_version is None else f"v{member.previous_version}"
        member.detail = f"back to {back}" + (f"; {member.detail}" if member.detail else "")
    finish(session, row, "rolled_back", message, now)

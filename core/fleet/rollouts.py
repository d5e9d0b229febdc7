"""Staged rollouts of a model version to devices, with a health gate and rollback.

    rollout: draft -> running <-> paused -> succeeded | failed | rolled_back | aborted
    device:  pending -> assigned -> downloading -> installed -> active | failed | rolled_back

Everything lives in the store. `tick(store, now)` advances every running rollout as a
pure function of the stored rollout, the devices' model reports and heartbeats and the
clock, so any process may call it (the workflow worker, the machine API, the CLI) and
a restart loses nothing. Assigning a wave writes the version into each device's desired
state; devices pull it, install it and report back (core.fleet.device_models).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.auth.roles import Role, User, require
from core.errors import UserInputError
from core.fleet.devices import ACTIVE
from core.fleet.models import DeviceRow
from core.fleet.rollout_catalog import ModelCatalog
from core.fleet.rollout_gate import FAIL, PASS, Observation, Verdict, evaluate, timed_out
from core.fleet.rollout_models import DeviceModelStateRow, RolloutDeviceRow, RolloutRow
from core.fleet.rollout_plans import Plan, plan_waves
from core.fleet.rollout_state import (  # re-exported: the public face of rollouts
    DEVICE_STATES,
    EVENT_LISTENERS,
    FINISHED_STATES,
    OPEN_STATES,
    PROGRESS,
    ROLLOUT_STATES,
    Rollout,
    RolloutDevice,
    RolloutEvent,
    assign_wave,
    desired_version,
    finish,
    load_row,
    members,
    roll_back,
    to_rollout,
)
from core.store import Store
from core.store.models import as_utc
from core.workflows.triggers import fire_rollout_triggers

log = logging.getLogger(__name__)
# A rollout's end can start workflows (their `rollout` trigger).
if fire_rollout_triggers not in EVENT_LISTENERS:
    EVENT_LISTENERS.append(fire_rollout_triggers)


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick changed: (rollout id, new state or 'wave N') pairs."""

    changes: tuple[tuple[int, str], ...]


# --- reading --------------------------------------------------------------------------


def get_rollout(store: Store, user: User, rollout_id: int) -> Rollout:
    """One rollout with its devices."""
    require(user, Role.ADMIN, "Managing rollouts")
    with store.session() as s:
        return to_rollout(s, load_row(s, rollout_id))


def list_rollouts(store: Store, user: User, *, limit: int = 200) -> list[Rollout]:
    """Newest rollouts first."""
    require(user, Role.ADMIN, "Managing rollouts")
    with store.session() as s:
        rows = s.scalars(select(RolloutRow).order_by(RolloutRow.id.desc()).limit(limit)).all()
        return [to_rollout(s, r) for r in rows]


# --- admin actions --------------------------------------------------------------------


def _eligible(session: Session, tags: Sequence[str]) -> list[DeviceRow]:
    rows = session.scalars(select(DeviceRow).where(DeviceRow.status == ACTIVE)).all()
    wanted = set(tags)
    return [r for r in rows if wanted <= set(r.tags or ())]


def create_rollout(
    store: Store,
    catalog: ModelCatalog,
    user: User,
    model: str,
    version: int,
    plan: Plan,
    now: datetime,
    *,
    start: bool = True,
) -> Rollout:
    """Plan a rollout of `model` v`version` to the active devices with the plan's tags."""
    require(user, Role.ADMIN, "Managing rollouts")
    plan.check()
    info = catalog.version(model, version)
    with store.writing() as s:  # two admins starting one model's rollout: one wins
        busy = s.scalar(
            select(RolloutRow.id).where(
                RolloutRow.model_name == info.name, RolloutRow.state.in_(OPEN_STATES)
            )
        )
        if busy is not None:
            raise UserInputError(
                f"Rollout #{busy} of {info.name} is still open: finish or abort it first."
            )
        devices = {r.name: r for r in _eligible(s, plan.tags)}
        waves = plan_waves(plan, list(devices))
        row = RolloutRow(
            model_name=info.name,
            model_version=info.version,
            plan=plan.to_json(),
            state="draft",
            wave=0,
            waves=len(waves),
            message="",
            gate={},
            created_by=user.email,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        for index, names in enumerate(waves):
            for name in names:
                device = devices[name]
                s.add(
                    RolloutDeviceRow(
                        rollout_id=row.id,
                        device_id=device.id,
                        wave=index,
                        state="pending",
                        previous_version=desired_version(device, info.name),
                        detail="",
                        updated_at=now,
                    )
                )
        s.flush()
        audit.record(
            s,
            user,
            "rollout.create",
            f"{info.name} v{info.version}",
            rollout=row.id,
            strategy=plan.strategy,
            devices=len(devices),
            waves=len(waves),
        )
        if start:
            _start(s, row, user, now)
        return to_rollout(s, row)


def _start(session: Session, row: RolloutRow, user: User | str, now: datetime) -> None:
    row.state, row.wave, row.message = "running", 0, "wave 1 assigned"
    assign_wave(session, row, now)
    audit.record(
        session, user, "rollout.start", f"{row.model_name} v{row.model_version}", rollout=row.id
    )


def _transition(
    store: Store,
    user: User,
    rollout_id: int,
    allowed: Iterable[str],
    action: str,
    now: datetime,
    apply: Callable[[Session, RolloutRow], None],
) -> Rollout:
    require(user, Role.ADMIN, "Managing rollouts")
    with store.writing() as s:
        row = load_row(s, rollout_id, lock=True)
        if row.state not in allowed:
            raise UserInputError(f"Rollout #{rollout_id} is {row.state}: it cannot {action}.")
        apply(s, row)
        row.updated_at = now
        audit.record(
            s, user, f"rollout.{action}", f"{row.model_name} v{row.model_version}", rollout=row.id
        )
        return to_rollout(s, row)


def start_rollout(store: Store, user: User, rollout_id: int, now: datetime) -> Rollout:
    """Start a draft rollout: its first wave is assigned."""
    return _transition(
        store, user, rollout_id, ("draft",), "start", now, lambda s, r: _start(s, r, user, now)
    )


def pause(store: Store, user: User, rollout_id: int, now: datetime) -> Rollout:
    """Stop advancing (devices already assigned keep installing)."""

    def apply(s: Session, row: RolloutRow) -> None:
        row.state, row.message = "paused", f"paused by {user.email}"

    return _transition(store, user, rollout_id, ("running",), "pause", now, apply)


def resume(store: Store, user: User, rollout_id: int, now: datetime) -> Rollout:
    """Advance again; the current wave's install timeout starts afresh."""

    def apply(s: Session, row: RolloutRow) -> None:
        row.state, row.wave_started_at = "running", now
        row.message = f"resumed by {user.email}"

    return _transition(store, user, rollout_id, ("paused",), "resume", now, apply)


def abort(
    store: Store, user: User, rollout_id: int, now: datetime, *, rollback: bool = False
) -> Rollout:
    """Stop for good; with `rollback`, devices already reached go back to their version."""

    def apply(s: Session, row: RolloutRow) -> None:
        if rollback:
            roll_back(s, row, now, f"rolled back by {user.email}")
        else:
            finish(s, row, "aborted", f"aborted by {user.email}", now)

    return _transition(store, user, rollout_id, OPEN_STATES, "abort", now, apply)


# --- advancing ------------------------------------------------------------------------


def _sync(
    member: RolloutDeviceRow, report: DeviceModelStateRow | None, version: int, now: datetime
) -> None:
    """Move a device forward from its latest report of the rollout's version."""
    if member.state not in PROGRESS or report is None or report.version != version:
        return
    # The report's time, not the tick's: ticks may be rare, the bake counts from the device.
    when = min(now, as_utc(report.reported_at) or now)
    if report.state == "failed":
        member.state, member.detail, member.updated_at = "failed", report.detail[:500], when
    elif PROGRESS.get(report.state, -1) > PROGRESS[member.state]:
        member.state, member.updated_at = report.state, when


def _observe(
    member: RolloutDeviceRow, device: DeviceRow, report: DeviceModelStateRow | None, version: int
) -> Observation:
    current = report is not None and report.version == version
    return Observation(
        device=device.name,
        state=member.state,
        changed_at=as_utc(member.updated_at),
        last_seen_at=as_utc(device.last_seen_at),
        requests=report.requests if current and report else 0,
        errors=report.errors if current and report else 0,
        p95_ms=report.p95_ms if current and report else None,
    )


def _advance(session: Session, row: RolloutRow, now: datetime) -> str | None:
    """One step of one running rollout; returns what changed, if anything."""
    everyone = members(session, row)
    reports = {
        r.device_id: r
        for r in session.scalars(
            select(DeviceModelStateRow).where(DeviceModelStateRow.model_name == row.model_name)
        )
    }
    plan = Plan.from_json(row.plan)
    started = as_utc(row.wave_started_at) or now
    late = timed_out(plan.gate, started, now)
    wave: list[Observation] = []
    for member, device in everyone:
        report = reports.get(device.id)
        _sync(member, report, row.model_version, now)
        if member.wave != row.wave:
            continue
        if late and member.state in ("assigned", "downloading", "installed"):
            member.state, member.updated_at = "failed", now  # it ran out of time
            member.detail = f"not active within {plan.gate.install_timeout_seconds} s"
        wave.append(_observe(member, device, report, row.model_version))
    verdict: Verdict = evaluate(plan.gate, started, wave, now)
    row.gate = {"wave": row.wave, **verdict.to_json()}
    if verdict.decision == FAIL:
        reason = f"wave {row.wave + 1} failed the gate: " + "; ".join(verdict.reasons)
        if plan.on_failure == "rollback":
            roll_back(session, row, now, reason)
        else:
            finish(session, row, "failed", reason, now)
        return row.state
    if verdict.decision != PASS:
        row.message = "; ".join(verdict.reasons)
        return None
    if row.wave + 1 >= row.waves:
        finish(session, row, "succeeded", f"all {row.waves} wave(s) passed the gate", now)
        return row.state
    row.wave += 1
    row.message = f"wave {row.wave} passed; wave {row.wave + 1} assigned"
    assign_wave(session, row, now)
    return f"wave {row.wave + 1}"


def tick(store: Store, now: datetime) -> TickResult:
    """Advance every running rollout once (safe to call from several processes)."""
    changes: list[tuple[int, str]] = []
    with store.session() as s:
        ids = s.scalars(select(RolloutRow.id).where(RolloutRow.state == "running")).all()
    for rollout_id in ids:
        with store.writing() as s:  # one transaction per rollout: one failure stays local
            row = load_row(s, rollout_id, lock=True)
            if row.state != "running":  # another process finished it meanwhile
                continue
            if (change := _advance(s, row, now)) is not None:
                changes.append((rollout_id, change))
                log.info("rollout %s: %s", rollout_id, change)
    return TickResult(tuple(changes))


def any_running(store: Store) -> bool:
    """Whether a tick has anything to do."""
    with store.session() as s:
        return (
            s.scalar(select(RolloutRow.id).where(RolloutRow.state == "running").limit(1))
            is not None
        )


def tick_if_running(store: Store, now: datetime) -> TickResult | None:
    """A tick when a rollout runs; errors are logged, not raised (for background loops)."""
    try:
        return tick(store, now) if any_running(store) else None
    except Exception:  # the loop calling this must keep going; the next tick retries
        log.exception("rollout tick failed")
        return None


__all__ = [
    "DEVICE_STATES",
    "EVENT_LISTENERS",
    "FINISHED_STATES",
    "OPEN_STATES",
    "ROLLOUT_STATES",
    "Rollout",
    "RolloutDevice",
    "RolloutEvent",
    "TickResult",
    "abort",
    "any_running",
    "create_rollout",
    "get_rollout",
    "list_rollouts",
    "pause",
    "resume",
    "start_rollout",
    "tick",
    "tick_if_running",
]

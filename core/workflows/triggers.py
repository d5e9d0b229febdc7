"""The scheduler: keeps each trigger's state in the store and fires runs when they are due.

Time triggers (cron, interval) and polling triggers (file arrival, data condition) keep
a `next_due` time; a tick handles only the triggers due by now, so 500 minutely
workflows cost 500 row updates a minute. Every run a trigger fires carries a unique key
(trigger, scheduled time / file version), so two workers ticking together, or a worker
restarted mid-tick, never start a run twice. Workflow-completed triggers fire from the
engine when the watched run finishes (see runs.fire_completion_triggers); rollout
triggers fire when a model rollout to edge devices ends (see fire_rollout_triggers).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.store.models import as_utc
from core.workflows import schedule
from core.workflows.definition import (
    CronTrigger,
    DataTrigger,
    FileTrigger,
    IntervalTrigger,
    RolloutTrigger,
    WorkflowDef,
    WorkflowTrigger,
)
from core.workflows.models import WorkflowRow, WorkflowTriggerRow
from core.workflows.runs import NewRun, create_run
from core.workflows.state import definition_of

log = logging.getLogger(__name__)
SETTLE_SECONDS = 2  # a file must be unchanged this long before it counts as arrived
MAX_SEEN_FILES = 10_000
DATA_CHECK_TIMEOUT = 120
MAX_COUNTED_MISSES = 1000
ANY_MODEL = "*"


def trigger_key(index: int, trigger: Any) -> str:
    """Identifies a trigger by position and content: editing it starts a fresh state."""
    digest = hashlib.sha256(
        json.dumps(trigger.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    return f"{index}:{trigger.type}:{digest[:16]}"


def _initial(trigger: Any, now: datetime) -> dict[str, Any]:
    """Columns of a new trigger state row (everything starts from `now`: no back-fill)."""
    if isinstance(trigger, CronTrigger):
        due = schedule.next_cron(trigger.cron, trigger.timezone, now)
        return {"next_due": due, "last_fired": now, "state": {"missed": 0}}
    if isinstance(trigger, IntervalTrigger):
        every = trigger.every_seconds
        return {
            "next_due": now + timedelta(seconds=every),
            "last_fired": now,
            "state": {"anchor": now.isoformat(), "missed": 0},
        }
    if isinstance(trigger, FileTrigger):
        return {"next_due": now, "state": {"seen": {}, "primed": False}}
    if isinstance(trigger, DataTrigger):
        return {"next_due": now, "state": {"last": None}}
    if isinstance(trigger, WorkflowTrigger):
        return {"watch": trigger.workflow, "state": {"status": trigger.status}}
    if isinstance(trigger, RolloutTrigger):
        return {"watch": trigger.model or ANY_MODEL, "state": {"state": trigger.state}}
    return {}


def sync_triggers(
    session: Session, workflow: WorkflowRow, definition: WorkflowDef, now: datetime
) -> None:
    """Make the stored trigger states match the workflow's current triggers and switch."""
    wanted = {}
    if workflow.enabled:
        for index, trigger in enumerate(definition.triggers):
            columns = _initial(trigger, now)
            if columns:
                wanted[trigger_key(index, trigger)] = (trigger, columns)
    existing = {
        row.key: row
        for row in session.scalars(
            select(WorkflowTriggerRow).where(WorkflowTriggerRow.workflow_id == workflow.id)
        )
    }
    stale = [row.id for key, row in existing.items() if key not in wanted]
    if stale:
        session.execute(delete(WorkflowTriggerRow).where(WorkflowTriggerRow.id.in_(stale)))
    for key, (trigger, columns) in wanted.items():
        if key not in existing:
            session.add(
                WorkflowTriggerRow(
                    workflow_id=workflow.id,
                    key=key,
                    kind=trigger.type,
                    updated_at=now,
                    **columns,
                )
            )
    session.flush()


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one scheduler tick did."""

    due: int
    fired: tuple[int, ...]
    missed: int


def _fire_times(
    row: WorkflowTriggerRow,
    definition: WorkflowDef,
    times: list[datetime],
    now: datetime,
    grace: int,
) -> tuple[list[tuple[datetime, bool]], int]:
    """Which due times fire ((time, caught_up) pairs) and how many are skipped as missed."""
    on_time = [t for t in times if (now - t).total_seconds() <= grace]
    late = [t for t in times if (now - t).total_seconds() > grace]
    policy = definition.policy
    caught = late[-policy.catch_up_max :] if policy.missed == "catch_up" and late else []
    skipped = len(late) - len(caught)
    return [(t, True) for t in caught] + [(t, False) for t in on_time], skipped


def _scheduled(session, services, workflow, row, trigger, definition, now) -> list[int]:
    grace = services.settings.workflows.misfire_grace_seconds
    # Look back far enough to count what was missed (bounded: a long outage costs 1000 steps).
    limit = definition.policy.catch_up_max + 1 + MAX_COUNTED_MISSES
    after = as_utc(row.last_fired) or now
    if isinstance(trigger, CronTrigger):
        times = schedule.cron_times(trigger.cron, trigger.timezone, after, now, limit)
        row.next_due = schedule.next_cron(trigger.cron, trigger.timezone, now)
    else:
        anchor = datetime.fromisoformat(row.state["anchor"])
        every = trigger.every_seconds
        times = schedule.interval_times(anchor, every, after, now, limit)
        row.next_due = schedule.next_interval(anchor, every, now)
    fire, skipped = _fire_times(row, definition, times, now, grace)
    row.last_fired = now
    if skipped:
        log.warning("%s: %d missed run(s) skipped (missed-run policy)", workflow.name, skipped)
        row.state = {**row.state, "missed": int(row.state.get("missed", 0)) + skipped}
    started = []
    for moment, caught_up in fire:
        payload = {"scheduled_for": moment.isoformat(), "caught_up": caught_up}
        new = NewRun(
            trigger.type,
            payload,
            dedupe_key=f"{row.key}@{moment.isoformat()}",
            scheduled_for=moment,
        )
        if (run_id := create_run(session, workflow, new, now)) is not None:
            started.append(run_id)
    return started


def _files(session, services, workflow, row, trigger: FileTrigger, definition, now) -> list[int]:
    row.next_due = now + timedelta(seconds=trigger.poll_seconds)
    root = services.settings.import_dir
    if root is None:
        row.state = {**row.state, "error": "BEACON_IMPORT_DIR is not set"}
        return []
    folder = (root / trigger.folder).resolve()
    if not folder.is_relative_to(root) or not folder.is_dir():
        row.state = {**row.state, "error": f"no folder {trigger.folder!r} in the import folder"}
        return []
    seen: dict[str, list[int]] = dict(row.state.get("seen", {}))
    current: dict[str, list[int]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix in (".part", ".tmp"):
            continue
        if fnmatch.fnmatch(path.name, trigger.pattern):
            stat = path.stat()
            current[path.relative_to(root).as_posix()] = [stat.st_mtime_ns, stat.st_size]
    started: list[int] = []
    primed = row.state.get("primed", False)
    for relative, signature in current.items():
        settled = now.timestamp() - signature[0] / 1e9 >= SETTLE_SECONDS
        if not primed or seen.get(relative) == signature or not settled:
            continue
        digest = hashlib.sha256(f"{relative}|{signature}".encode()).hexdigest()[:24]
        payload = {
            "path": relative,
            "name": relative.rpartition("/")[2],
            "size": signature[1],
            "modified": datetime.fromtimestamp(signature[0] / 1e9, UTC).isoformat(),
        }
        new = NewRun("file", payload, dedupe_key=f"{row.key}:{digest}")
        if (run_id := create_run(session, workflow, new, now)) is not None:
            started.append(run_id)
        seen[relative] = signature
    if not primed:
        seen = {k: v for k, v in current.items() if now.timestamp() - v[0] / 1e9 >= SETTLE_SECONDS}
    seen = {k: v for k, v in seen.items() if k in current}
    row.state = {"seen": dict(list(seen.items())[:MAX_SEEN_FILES]), "primed": True}
    return started


def _check_in_child(
    services: Any, owner: str, trigger: DataTrigger, timeout: float
) -> dict[str, Any]:
    """Evaluate a data condition in a short-lived child process (bounded in time)."""
    context = mp.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def probe() -> None:
        from core.workflows.execute import acting_user
        from core.workflows.tasks.base import StepContext
        from core.workflows.tasks.query import check_metric

        services.store.engine.dispose(close=False)
        try:
            user = acting_user(services, owner)
            ctx = StepContext(services, user, "trigger", 0, "trigger", 1)
            send.send(check_metric(ctx, trigger.sql, trigger.operator, trigger.threshold))
        except Exception as exc:  # reported in the trigger's state
            send.send({"error": str(exc)[:300]})

    process = context.Process(target=probe, daemon=True)
    process.start()
    send.close()
    try:
        if receive.poll(timeout):
            return receive.recv()
        return {"error": f"the check took longer than {timeout:g} s"}
    except EOFError:
        return {"error": "the check's process died"}
    finally:
        process.kill()
        process.join(5)
        receive.close()


def _data(session, workflow, row, trigger: DataTrigger, result: dict, now) -> list[int]:
    if "error" in result:
        row.state = {**row.state, "error": result["error"]}
        return []
    previous = row.state.get("last")
    row.state = {"last": result["passed"], "value": result["value"], "checked": now.isoformat()}
    if previous is False and result["passed"]:  # crossing: false -> true
        payload = {k: result[k] for k in ("metric", "value", "operator", "threshold")}
        new = NewRun("data", payload, dedupe_key=f"{row.key}@{now.isoformat()}")
        run_id = create_run(session, workflow, new, now)
        return [run_id] if run_id is not None else []
    return []


Handler = Callable[..., list[int]]
TRIGGER_KINDS: dict[str, Handler] = {"cron": _scheduled, "interval": _scheduled, "file": _files}


def anything_due(services: Any, now: datetime) -> bool:
    """Whether any trigger is due (a cheap read, so idle ticks take no write lock)."""
    with services.store.session() as session:
        due = select(WorkflowTriggerRow.id).where(WorkflowTriggerRow.next_due <= now).limit(1)
        return session.scalar(due) is not None


def tick(services: Any, now: datetime, *, limit: int = 2000) -> TickReport:
    """Fire every trigger due by `now`; each due trigger is handled by one worker only.

    Data conditions run a query: they are taken (their next check moved on) inside the
    transaction, then checked outside it, so the store is never locked during a query.
    """
    fired: list[int] = []
    missed = 0
    probes: list[tuple[int, str, DataTrigger]] = []
    with services.store.writing() as session:
        query = (
            select(WorkflowTriggerRow)
            .where(WorkflowTriggerRow.next_due <= now)
            .order_by(WorkflowTriggerRow.next_due)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        for row in rows:
            workflow = session.get(WorkflowRow, row.workflow_id)
            definition = definition_of(session, workflow.id, workflow.current_version)
            trigger = definition.triggers[int(row.key.split(":", 1)[0])]
            row.updated_at = now
            if isinstance(trigger, DataTrigger):
                if probes:  # one query per tick: the worker must keep renewing its leases
                    continue
                row.next_due = now + timedelta(seconds=trigger.poll_seconds)
                probes.append((row.id, workflow.owner, trigger))
                continue
            before = int(row.state.get("missed", 0))
            fired += TRIGGER_KINDS[row.kind](
                session, services, workflow, row, trigger, definition, now
            )
            missed += int(row.state.get("missed", 0)) - before
    timeout = max(5.0, min(DATA_CHECK_TIMEOUT, services.settings.workflows.lease_seconds / 3))
    for row_id, owner, trigger in probes:
        result = _check_in_child(services, owner, trigger, timeout)
        with services.store.writing() as session:
            row = session.get(WorkflowTriggerRow, row_id)
            if row is not None:
                workflow = session.get(WorkflowRow, row.workflow_id)
                fired += _data(session, workflow, row, trigger, result, now)
    return TickReport(due=len(rows), fired=tuple(fired), missed=missed)


def fire_rollout_triggers(session: Session, event: Any, now: datetime) -> list[int]:
    """Queue runs of workflows waiting for this rollout's end (core.fleet rollout events)."""
    started: list[int] = []
    rows = session.scalars(
        select(WorkflowTriggerRow).where(
            WorkflowTriggerRow.kind == "rollout",
            WorkflowTriggerRow.watch.in_([event.model_name, ANY_MODEL]),
        )
    ).all()
    for row in rows:
        wanted = row.state.get("state", "finished")
        if wanted not in ("finished", event.state):
            continue
        workflow = session.get(WorkflowRow, row.workflow_id)
        if workflow is None or not workflow.enabled:
            continue
        payload = {
            "rollout_id": event.rollout_id,
            "model": event.model_name,
            "version": event.model_version,
            "state": event.state,
            "message": event.message,
        }
        key = f"rollout:{event.rollout_id}:{row.key}"[:200]
        if (
            run_id := create_run(session, workflow, NewRun("rollout", payload, key), now)
        ) is not None:
            started.append(run_id)
    return started

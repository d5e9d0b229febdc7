"""Runs: creating them (overlap policy, one run per scheduled time), admitting queued runs
under the concurrency limits, moving a run's steps forward, finishing, cancelling, re-running.

Every function here works inside the caller's write transaction (`Store.writing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.workflows.definition import WorkflowDef, downstream_of
from core.workflows.models import WorkflowRow, WorkflowRunRow, WorkflowStepRow, WorkflowTriggerRow
from core.workflows.state import (
    ACTIVE_RUN,
    BAD_STEP,
    CANCELLED,
    DONE_STEP,
    FAILED,
    MAIN,
    ON_FAILURE,
    PENDING,
    QUEUED,
    READY,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    UPSTREAM_FAILED,
    definition_of,
)

ADMISSION_LOCK = 0x5EA_C0  # PostgreSQL advisory lock: one worker admits runs at a time


@dataclass(frozen=True, slots=True)
class NewRun:
    """Why a run starts: trigger type, its payload, and the key that makes it unique."""

    trigger: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    scheduled_for: datetime | None = None
    created_by: str = "system"
    rerun_of: int | None = None


def _insert_run(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a run unless its (workflow, dedupe key) exists; the new id or None."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(WorkflowRunRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["workflow_id", "dedupe_key"])
            .returning(WorkflowRunRow.id)
        )
        return session.execute(statement).scalar()
    row = WorkflowRunRow(**values)  # other databases: the unique constraint still guards
    session.add(row)
    session.flush()
    return row.id


def create_run(
    session: Session,
    workflow: WorkflowRow,
    new: NewRun,
    now: datetime,
    *,
    version: int | None = None,
    reuse: dict[str, WorkflowStepRow] | None = None,
) -> int | None:
    """Queue a run (or record it skipped, per the overlap policy); None if it exists already."""
    version = version or workflow.current_version
    definition = definition_of(session, workflow.id, version)
    if new.dedupe_key is not None and session.scalar(
        select(WorkflowRunRow.id).where(
            WorkflowRunRow.workflow_id == workflow.id, WorkflowRunRow.dedupe_key == new.dedupe_key
        )
    ):
        return None
    active = session.scalars(
        select(WorkflowRunRow)
        .where(WorkflowRunRow.workflow_id == workflow.id, WorkflowRunRow.status.in_(ACTIVE_RUN))
        .order_by(WorkflowRunRow.id)
    ).all()
    policy = definition.policy
    status, error = QUEUED, ""
    if len(active) >= policy.concurrency:
        if policy.overlap == "skip":
            status = SKIPPED
            error = f"Skipped: {len(active)} run(s) in progress and the overlap policy is skip."
            # finished_at is set below
        elif policy.overlap == "cancel":
            for old in active[: len(active) - policy.concurrency + 1]:
                cancel_run(session, old, now, "Cancelled by a newer run (overlap policy: cancel).")
    run_id = _insert_run(
        session,
        {
            "workflow_id": workflow.id,
            "version": version,
            "status": status,
            "phase": MAIN,
            "trigger": new.trigger,
            "trigger_payload": new.payload,
            "dedupe_key": new.dedupe_key,
            "scheduled_for": new.scheduled_for,
            "rerun_of": new.rerun_of,
            "created_by": new.created_by,
            "created_at": now,
            "finished_at": now if status == SKIPPED else None,
            "error": error,
        },
    )
    if run_id is None or status == SKIPPED:
        return run_id
    reuse = reuse or {}
    groups = ((MAIN, definition.steps), (ON_FAILURE, definition.on_failure))
    position = 0
    for phase, steps in groups:
        for step in steps:
            old = reuse.get(step.id)
            session.add(
                WorkflowStepRow(
                    run_id=run_id,
                    step_id=step.id,
                    position=position,
                    phase=phase,
                    status=SUCCEEDED if old else PENDING,
                    attempt=old.attempt if old else 0,
                    max_attempts=step.retry.attempts,
                    output=old.output if old else None,
                    output_truncated=old.output_truncated if old else False,
                    duration_ms=old.duration_ms if old else None,
                    reused=bool(old),
                    error="",
                )
            )
            position += 1
    session.flush()
    return run_id


def admit_queued(session: Session, now: datetime, max_runs: int) -> list[int]:
    """Start queued runs, oldest first, within the global and per-workflow limits."""
    queued_ids = select(WorkflowRunRow.id).where(WorkflowRunRow.status == QUEUED).limit(1)
    if session.scalar(queued_ids) is None:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMISSION_LOCK})
    running = dict(
        session.execute(
            select(WorkflowRunRow.workflow_id, func.count())
            .where(WorkflowRunRow.status == RUNNING)
            .group_by(WorkflowRunRow.workflow_id)
        ).all()
    )
    total = sum(running.values())
    if total >= max_runs:
        return []
    started: list[int] = []
    queued = session.scalars(
        select(WorkflowRunRow).where(WorkflowRunRow.status == QUEUED).order_by(WorkflowRunRow.id)
    ).all()
    for run in queued:
        definition = definition_of(session, run.workflow_id, run.version)
        if running.get(run.workflow_id, 0) >= definition.policy.concurrency:
            continue
        run.status, run.started_at = RUNNING, now
        running[run.workflow_id] = running.get(run.workflow_id, 0) + 1
        total += 1
        started.append(run.id)
        advance_run(session, run, now, definition=definition)
        if total >= max_runs:
            break
    return started


def _steps(session: Session, run_id: int) -> list[WorkflowStepRow]:
    return list(
        session.scalars(
            select(WorkflowStepRow)
            .where(WorkflowStepRow.run_id == run_id)
            .order_by(WorkflowStepRow.position)
            .execution_options(populate_existing=True)  # what other workers committed
        )
    )


def _resolve(rows: list[WorkflowStepRow], definition: WorkflowDef) -> None:
    """Pending steps whose upstreams are done become ready, skipped or upstream-failed."""
    by_id = {r.step_id: r for r in rows}
    changed = True
    while changed:
        changed = False
        for row in rows:
            if row.status != PENDING:
                continue
            upstream = [by_id[d].status for d in definition.step(row.step_id).depends_on]
            if any(s not in DONE_STEP for s in upstream):
                continue
            if any(s in BAD_STEP for s in upstream):
                row.status = UPSTREAM_FAILED
            elif any(s == SKIPPED for s in upstream):
                row.status = SKIPPED
            else:
                row.status = READY
            changed = True


def advance_run(
    session: Session, run: WorkflowRunRow, now: datetime, *, definition: WorkflowDef | None = None
) -> bool:
    """Move a running run forward after a step changed; True once the run has finished."""
    if run.status != RUNNING:
        return run.status not in ACTIVE_RUN
    definition = definition or definition_of(session, run.workflow_id, run.version)
    rows = _steps(session, run.id)
    main = [r for r in rows if r.phase == MAIN]
    rescue = [r for r in rows if r.phase == ON_FAILURE]
    _resolve(main, definition)
    if any(r.status not in DONE_STEP for r in main):
        return False
    failed = [r for r in main if r.status in (FAILED, CANCELLED)]
    if not failed:
        for row in rescue:
            row.status, row.finished_at = SKIPPED, now
        _finish(session, run, SUCCEEDED, "", now)
        return True
    if run.phase == MAIN and rescue:
        run.phase = ON_FAILURE
    _resolve(rescue, definition)
    if any(r.status not in DONE_STEP for r in rescue):
        return False
    first = failed[0]
    _finish(session, run, FAILED, f"Step {first.step_id!r} failed: {first.error}", now)
    return True


def _finish(session: Session, run: WorkflowRunRow, status: str, error: str, now: datetime) -> None:
    run.status, run.error, run.finished_at = status, error[:4000], now
    session.flush()
    fire_completion_triggers(session, run, now)


def fire_completion_triggers(session: Session, run: WorkflowRunRow, now: datetime) -> list[int]:
    """Queue runs of workflows that wait for this one to finish (workflow triggers)."""
    name = session.scalar(select(WorkflowRow.name).where(WorkflowRow.id == run.workflow_id))
    started: list[int] = []
    listeners = session.scalars(
        select(WorkflowTriggerRow).where(
            WorkflowTriggerRow.kind == "workflow", WorkflowTriggerRow.watch == name
        )
    ).all()
    for trigger in listeners:
        wanted = trigger.state.get("status", SUCCEEDED)
        if wanted != "finished" and wanted != run.status:
            continue
        listener = session.get(WorkflowRow, trigger.workflow_id)
        if listener is None or not listener.enabled:
            continue
        payload = {"workflow": name, "run_id": run.id, "status": run.status}
        new = NewRun("workflow", payload, dedupe_key=f"after:{run.id}:{trigger.key}"[:200])
        if (run_id := create_run(session, listener, new, now)) is not None:
            started.append(run_id)
    return started


def cancel_run(session: Session, run: WorkflowRunRow, now: datetime, reason: str) -> None:
    """Stop a run: unfinished steps are cancelled (workers stop their processes)."""
    if run.status not in ACTIVE_RUN:
        return
    for row in _steps(session, run.id):
        if row.status not in DONE_STEP:
            row.status, row.finished_at, row.error = CANCELLED, now, reason
    _finish(session, run, CANCELLED, reason, now)


def rerun_from(
    session: Session, run: WorkflowRunRow, step_id: str, created_by: str, now: datetime
) -> int | None:
    """A new run of the same version that redoes `step_id` and everything after it.

    Steps outside that part that succeeded keep their outputs (marked reused).
    """
    definition = definition_of(session, run.workflow_id, run.version)
    redo = downstream_of(definition.steps, step_id)
    reuse = {
        r.step_id: r
        for r in _steps(session, run.id)
        if r.phase == MAIN and r.status == SUCCEEDED and r.step_id not in redo
    }
    workflow = session.get(WorkflowRow, run.workflow_id)
    new = NewRun("rerun", dict(run.trigger_payload or {}), created_by=created_by, rerun_of=run.id)
    return create_run(session, workflow, new, now, version=run.version, reuse=reuse)

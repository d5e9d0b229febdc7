"""Steps: claiming ready ones atomically, recording how each attempt ended, retrying with
backoff, and taking back steps whose worker disappeared.

A claim is a lease: the worker renews it while the step's process runs. A worker that
dies (kill -9, power loss) stops renewing; once the lease has run out, or at once when
the worker was on this host and its process is gone, another worker counts the attempt
as interrupted and retries the step by its policy.
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.store.models import as_utc
from core.workflows.definition import WorkflowDef
from core.workflows.models import (
    WorkflowAttemptRow,
    WorkflowRow,
    WorkflowRunRow,
    WorkflowStepRow,
    WorkflowWorkerRow,
)
from core.workflows.output import limit_output
from core.workflows.runs import advance_run
from core.workflows.state import (
    CANCELLED,
    FAILED,
    READY,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    definition_of,
    retry_delay,
)

MAX_LOG_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Claim:
    """A step a worker has taken: everything its process needs, as plain data."""

    step_run_id: int
    run_id: int
    workflow: str
    owner: str
    step_id: str
    attempt: int
    timeout: float
    step: dict[str, Any]
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended."""

    status: str  # succeeded | failed | skipped
    output: Any = None
    error: str = ""
    log: str = ""
    duration_ms: int = 0
    retryable: bool = True


@dataclass(slots=True)
class WorkerIdentity:
    """Who claims: a worker id plus the host and process that can vouch it is alive."""

    id: str
    hostname: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


def template_context(
    run: WorkflowRunRow,
    workflow: str,
    definition: WorkflowDef,
    rows: list[WorkflowStepRow],
    now: datetime,
) -> dict[str, Any]:
    """What templates see: variables, trigger, steps.<id>.output/status, run, now."""
    failed = next((r for r in rows if r.status == FAILED), None)
    return {
        "workflow": workflow,
        "variables": dict(definition.variables),
        "trigger": dict(run.trigger_payload or {}),
        "steps": {
            r.step_id: {
                "status": r.status,
                "output": r.output,
                "attempts": r.attempt,
                "error": r.error,
            }
            for r in rows
        },
        "run": {
            "id": run.id,
            "trigger": run.trigger,
            "scheduled_for": as_utc(run.scheduled_for).isoformat() if run.scheduled_for else None,
            "failed_step": failed.step_id if failed else None,
            "error": failed.error if failed else "",
        },
        "now": now.isoformat(),
        "today": now.date().isoformat(),
    }


def claim_steps(
    session: Session,
    worker: WorkerIdentity,
    now: datetime,
    limit: int,
    *,
    lease_seconds: int,
    default_timeout: int,
    run_id: int | None = None,
) -> list[Claim]:
    """Take up to `limit` ready steps of running runs (exclusive: no two workers get one)."""
    query = (
        select(WorkflowStepRow)
        .join(WorkflowRunRow, WorkflowRunRow.id == WorkflowStepRow.run_id)
        .where(
            WorkflowStepRow.status == READY,
            WorkflowRunRow.status == RUNNING,
            or_(WorkflowStepRow.next_attempt_at.is_(None), WorkflowStepRow.next_attempt_at <= now),
        )
        .order_by(WorkflowStepRow.run_id, WorkflowStepRow.position)
        .limit(limit)
    )
    if run_id is not None:
        query = query.where(WorkflowStepRow.run_id == run_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WorkflowStepRow)
    claims: list[Claim] = []
    for row in session.scalars(query).all():
        run = session.get(WorkflowRunRow, row.run_id)
        workflow = session.get(WorkflowRow, run.workflow_id)
        definition = definition_of(session, run.workflow_id, run.version)
        step = definition.step(row.step_id)
        row.status, row.attempt = RUNNING, row.attempt + 1
        row.claimed_by, row.lease_until = worker.id, now + timedelta(seconds=lease_seconds)
        row.started_at = row.started_at or now
        session.add(
            WorkflowAttemptRow(
                step_run_id=row.id,
                attempt=row.attempt,
                status=RUNNING,
                worker=worker.id,
                started_at=now,
                error="",
                log="",
            )
        )
        rows = list(
            session.scalars(select(WorkflowStepRow).where(WorkflowStepRow.run_id == run.id))
        )
        claims.append(
            Claim(
                step_run_id=row.id,
                run_id=run.id,
                workflow=workflow.name,
                owner=workflow.owner,
                step_id=row.step_id,
                attempt=row.attempt,
                timeout=float(step.timeout or default_timeout),
                step=step.model_dump(mode="json"),
                context=template_context(run, workflow.name, definition, rows, now),
            )
        )
    session.flush()
    return claims


def renew(session: Session, worker: WorkerIdentity, step_run_ids: list[int], until: datetime):
    """Extend this worker's leases; returns the ids it no longer holds (e.g. cancelled)."""
    if not step_run_ids:
        return []
    rows = session.scalars(select(WorkflowStepRow).where(WorkflowStepRow.id.in_(step_run_ids)))
    held = set()
    for row in rows:
        if row.status == RUNNING and row.claimed_by == worker.id:
            row.lease_until = until
            held.add(row.id)
    return sorted(set(step_run_ids) - held)


def finish_step(
    session: Session,
    worker: WorkerIdentity,
    claim: Claim,
    outcome: Outcome,
    now: datetime,
    *,
    output_limit: int,
    rng: random.Random,
) -> bool:
    """Record an attempt's end; False if the claim was lost meanwhile (result dropped)."""
    # The run's row is the lock that orders everything done to its steps: without it two
    # workers finishing the last two steps together could each miss the other's result.
    run = session.get(WorkflowRunRow, claim.run_id, with_for_update=True, populate_existing=True)
    row = session.get(WorkflowStepRow, claim.step_run_id, populate_existing=True)
    attempt = session.scalar(
        select(WorkflowAttemptRow).where(
            WorkflowAttemptRow.step_run_id == claim.step_run_id,
            WorkflowAttemptRow.attempt == claim.attempt,
        )
    )
    if attempt is not None and attempt.status == RUNNING:
        attempt.status = outcome.status
        attempt.finished_at, attempt.duration_ms = now, outcome.duration_ms
        attempt.error, attempt.log = outcome.error[:4000], outcome.log[-MAX_LOG_CHARS:]
    held = row is not None and row.status == RUNNING and row.claimed_by == worker.id
    if not held or row.attempt != claim.attempt or run is None:
        return False
    _settle(session, row, run, outcome, now, output_limit=output_limit, rng=rng)
    return True


def _settle(
    session: Session,
    row: WorkflowStepRow,
    run: WorkflowRunRow,
    outcome: Outcome,
    now: datetime,
    *,
    output_limit: int,
    rng: random.Random,
) -> None:
    row.claimed_by, row.lease_until = None, None
    row.duration_ms = outcome.duration_ms
    if outcome.status in (SUCCEEDED, SKIPPED):
        row.status, row.error, row.finished_at = outcome.status, "", now
        if outcome.status == SUCCEEDED:
            row.output, row.output_truncated = limit_output(outcome.output, output_limit)
    elif outcome.retryable and row.attempt < row.max_attempts:
        step = definition_of(session, run.workflow_id, run.version).step(row.step_id)
        delay = retry_delay(step.retry, row.attempt, rng)
        row.status, row.error = READY, outcome.error[:4000]
        row.next_attempt_at = now + timedelta(seconds=delay)
    else:
        row.status, row.error, row.finished_at = FAILED, outcome.error[:4000], now
    session.flush()
    advance_run(session, run, now)


def _alive(worker: WorkflowWorkerRow | None, hostname: str) -> bool:
    if worker is None or worker.stopped_at is not None:
        return False
    if worker.hostname != hostname:
        return True  # another machine: only its lease can tell
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_lost(
    session: Session, me: WorkerIdentity, now: datetime, *, rng: random.Random, output_limit: int
) -> list[int]:
    """Running steps whose worker is gone count as interrupted attempts and are retried."""
    taken: list[int] = []
    running = session.execute(
        select(
            WorkflowStepRow.id,
            WorkflowStepRow.run_id,
            WorkflowStepRow.claimed_by,
            WorkflowStepRow.lease_until,
        ).where(WorkflowStepRow.status == RUNNING, WorkflowStepRow.claimed_by != me.id)
    ).all()

    def lost(claimed_by: str | None, lease_until: datetime | None) -> bool:
        worker = session.get(WorkflowWorkerRow, claimed_by) if claimed_by else None
        expired = lease_until is None or as_utc(lease_until) < now
        return expired or not _alive(worker, me.hostname)

    for step_run_id, run_id, claimed_by, lease_until in running:
        if not lost(claimed_by, lease_until):
            continue
        # Looks lost: lock its run, then look again (its worker may have just renewed it).
        session.get(WorkflowRunRow, run_id, with_for_update=True, populate_existing=True)
        row = session.get(WorkflowStepRow, step_run_id, populate_existing=True)
        if row is None or row.status != RUNNING or not lost(row.claimed_by, row.lease_until):
            continue
        attempt = session.scalar(
            select(WorkflowAttemptRow).where(
                WorkflowAttemptRow.step_run_id == row.id, WorkflowAttemptRow.attempt == row.attempt
            )
        )
        reason = f"The worker running attempt {row.attempt} stopped before it finished."
        if attempt is not None and attempt.status == RUNNING:
            attempt.status, attempt.finished_at, attempt.error = FAILED, now, reason
        run = session.get(WorkflowRunRow, row.run_id)
        if run.status != RUNNING:
            row.status, row.finished_at = CANCELLED, now
            continue
        _settle(
            session,
            row,
            run,
            Outcome(FAILED, error=reason),
            now,
            output_limit=output_limit,
            rng=rng,
        )
        taken.append(row.id)
    return taken


def release(session: Session, worker: WorkerIdentity, claim: Claim, reason: str, now: datetime):
    """Give a claimed step back without using up an attempt (the worker is shutting down)."""
    row = session.get(WorkflowStepRow, claim.step_run_id)
    attempt = session.scalar(
        select(WorkflowAttemptRow).where(
            WorkflowAttemptRow.step_run_id == claim.step_run_id,
            WorkflowAttemptRow.attempt == claim.attempt,
        )
    )
    if attempt is not None and attempt.status == RUNNING:
        attempt.status, attempt.finished_at, attempt.error = "interrupted", now, reason
    if row is not None and row.status == RUNNING and row.claimed_by == worker.id:
        row.status, row.max_attempts = READY, row.max_attempts + 1  # this try does not count
        row.claimed_by, row.lease_until, row.next_attempt_at = None, None, None

"""Runs as users see them: start one now, cancel, re-run from a failed step, history with
per-step status, attempts, logs and outputs, and which workers are alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.store.models import as_utc, utcnow
from core.workflows import runs as run_ops
from core.workflows.models import (
    WorkflowAttemptRow,
    WorkflowRow,
    WorkflowRunRow,
    WorkflowStepRow,
    WorkflowWorkerRow,
)
from core.workflows.state import ACTIVE_RUN, BAD_STEP, DONE_STEP, definition_of


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run: why it started, how it is going or ended, how long it took."""

    id: int
    workflow: str
    version: int
    status: str
    phase: str
    trigger: str
    created_by: str
    created_at: datetime
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    rerun_of: int | None
    steps_done: int
    steps_total: int

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_RUN


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    """One try at a step."""

    attempt: int
    status: str
    worker: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str
    log: str


@dataclass(frozen=True, slots=True)
class StepRunInfo:
    """A step within a run: status, tries, output and each attempt's log."""

    step_id: str
    type: str
    phase: str
    status: str
    attempt: int
    max_attempts: int
    next_attempt_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    output: Any
    output_truncated: bool
    error: str
    reused: bool
    attempts: tuple[AttemptInfo, ...]


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with all its steps."""

    run: RunSummary
    steps: tuple[StepRunInfo, ...]
    trigger_payload: dict[str, Any]

    def step(self, step_id: str) -> StepRunInfo:
        return next(s for s in self.steps if s.step_id == step_id)


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """A worker process and its heartbeat."""

    id: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None
    steps_done: int


def _summary(session, run: WorkflowRunRow, name: str | None = None) -> RunSummary:
    counts = dict(
        session.execute(
            select(WorkflowStepRow.status, func.count())
            .where(WorkflowStepRow.run_id == run.id, WorkflowStepRow.phase == "main")
            .group_by(WorkflowStepRow.status)
        ).all()
    )
    if name is None:
        name = session.scalar(select(WorkflowRow.name).where(WorkflowRow.id == run.workflow_id))
    return RunSummary(
        id=run.id,
        workflow=name,
        version=run.version,
        status=run.status,
        phase=run.phase,
        trigger=run.trigger,
        created_by=run.created_by,
        created_at=as_utc(run.created_at),
        scheduled_for=as_utc(run.scheduled_for),
        started_at=as_utc(run.started_at),
        finished_at=as_utc(run.finished_at),
        error=run.error,
        rerun_of=run.rerun_of,
        steps_done=sum(n for s, n in counts.items() if s in DONE_STEP),
        steps_total=sum(counts.values()),
    )


def _run(session, run_id: int, *, lock: bool = False) -> WorkflowRunRow:
    run = session.get(WorkflowRunRow, run_id, with_for_update=lock)
    if run is None:
        raise NotFound(f"No workflow run {run_id}.")
    return run


def start_run(
    services: Any, user: User, name: str, payload: dict[str, Any] | None = None
) -> RunSummary:
    """Queue a manual run now (a worker picks it up); skipped if the overlap policy says so."""
    require(user, Role.ANALYST, "Running workflows")
    now = utcnow()
    with services.store.writing() as s:
        workflow = s.scalar(select(WorkflowRow).where(WorkflowRow.name == name))
        if workflow is None:
            raise NotFound(f"No workflow named {name!r}.")
        new = run_ops.NewRun("manual", dict(payload or {}), created_by=user.email)
        run_id = run_ops.create_run(s, workflow, new, now)
        audit.record(s, user, "workflow.run", name, run=run_id)
        return _summary(s, _run(s, run_id), name)


def cancel_run(services: Any, user: User, run_id: int) -> RunSummary:
    """Stop a queued or running run; its running steps' processes are stopped."""
    require(user, Role.ANALYST, "Cancelling workflow runs")
    with services.store.writing() as s:
        run = _run(s, run_id, lock=True)
        if run.status not in ACTIVE_RUN:
            raise UserInputError(f"Run {run_id} has already finished ({run.status}).")
        run_ops.cancel_run(s, run, utcnow(), f"Cancelled by {user.email}.")
        summary = _summary(s, run)
        audit.record(s, user, "workflow.cancel", summary.workflow, run=run_id)
        return summary


def rerun(services: Any, user: User, run_id: int, step_id: str | None = None) -> RunSummary:
    """A new run that starts again at `step_id` (default: the first failed step)."""
    require(user, Role.ANALYST, "Running workflows")
    with services.store.writing() as s:
        run = _run(s, run_id)
        if run.status in ACTIVE_RUN:
            raise UserInputError(f"Run {run_id} is still in progress.")
        rows = s.scalars(
            select(WorkflowStepRow)
            .where(WorkflowStepRow.run_id == run.id, WorkflowStepRow.phase == "main")
            .order_by(WorkflowStepRow.position)
        ).all()
        if step_id is None:
            failed = [r for r in rows if r.status in BAD_STEP and r.status != "upstream_failed"]
            if not failed:
                raise UserInputError(f"Run {run_id} has no failed step to start again from.")
            step_id = failed[0].step_id
        elif step_id not in {r.step_id for r in rows}:
            raise UserInputError(f"Run {run_id} has no step {step_id!r}.")
        new_id = run_ops.rerun_from(s, run, step_id, user.email, utcnow())
        summary = _summary(s, _run(s, new_id))
        audit.record(
            s, user, "workflow.rerun", summary.workflow, run=new_id, of=run_id, step=step_id
        )
        return summary


def list_runs(
    services: Any, user: User, name: str | None = None, *, limit: int = 50
) -> list[RunSummary]:
    """Newest runs first, of one workflow or all."""
    require(user, Role.VIEWER, "Reading workflow runs")
    with services.store.session() as s:
        query = select(WorkflowRunRow).order_by(WorkflowRunRow.id.desc()).limit(limit)
        if name is not None:
            workflow = s.scalar(select(WorkflowRow).where(WorkflowRow.name == name))
            if workflow is None:
                raise NotFound(f"No workflow named {name!r}.")
            query = query.where(WorkflowRunRow.workflow_id == workflow.id)
        return [_summary(s, r) for r in s.scalars(query)]


def run_detail(services: Any, user: User, run_id: int) -> RunDetail:
    """A run with every step, attempt, log and output."""
    require(user, Role.VIEWER, "Reading workflow runs")
    with services.store.session() as s:
        run = _run(s, run_id)
        definition = definition_of(s, run.workflow_id, run.version)
        rows = s.scalars(
            select(WorkflowStepRow)
            .where(WorkflowStepRow.run_id == run.id)
            .order_by(WorkflowStepRow.position)
        ).all()
        attempts: dict[int, list[AttemptInfo]] = {}
        for a in s.scalars(
            select(WorkflowAttemptRow)
            .where(WorkflowAttemptRow.step_run_id.in_([r.id for r in rows]))
            .order_by(WorkflowAttemptRow.attempt, WorkflowAttemptRow.id)
        ):
            attempts.setdefault(a.step_run_id, []).append(
                AttemptInfo(
                    a.attempt,
                    a.status,
                    a.worker,
                    as_utc(a.started_at),
                    as_utc(a.finished_at),
                    a.duration_ms,
                    a.error,
                    a.log,
                )
            )
        steps = tuple(
            StepRunInfo(
                step_id=r.step_id,
                type=definition.step(r.step_id).type,
                phase=r.phase,
                status=r.status,
                attempt=r.attempt,
                max_attempts=r.max_attempts,
                next_attempt_at=as_utc(r.next_attempt_at),
                started_at=as_utc(r.started_at),
                finished_at=as_utc(r.finished_at),
                duration_ms=r.duration_ms,
                output=r.output,
                output_truncated=r.output_truncated,
                error=r.error,
                reused=r.reused,
                attempts=tuple(attempts.get(r.id, ())),
            )
            for r in rows
        )
        return RunDetail(_summary(s, run), steps, dict(run.trigger_payload or {}))


def workers(services: Any, user: User, *, limit: int = 20) -> list[WorkerInfo]:
    """Workers, most recently seen first."""
    require(user, Role.VIEWER, "Reading workflow workers")
    with services.store.session() as s:
        rows = s.scalars(
            select(WorkflowWorkerRow).order_by(WorkflowWorkerRow.last_seen.desc()).limit(limit)
        )
        return [
            WorkerInfo(
                r.id,
                r.hostname,
                r.pid,
                as_utc(r.started_at),
                as_utc(r.last_seen),
                as_utc(r.stopped_at),
                r.steps_done,
            )
            for r in rows
        ]


@dataclass(frozen=True, slots=True)
class RunStats:
    """Runs of one workflow in a window and the window before it, for the metric cards."""

    days: int
    runs: int
    previous_runs: int
    success_rate: float | None  # of finished runs, 0-1
    previous_success_rate: float | None
    median_seconds: float | None
    daily: tuple[int, ...]  # runs per day over the window, oldest first


def run_stats(services: Any, user: User, name: str, *, days: int = 7, now=None) -> RunStats:
    """Counts, success rate and median duration of runs in the last `days` days vs before."""
    require(user, Role.VIEWER, "Reading workflow runs")
    now = now or utcnow()
    start, before = now - timedelta(days=days), now - timedelta(days=2 * days)
    with services.store.session() as s:
        workflow = s.scalar(select(WorkflowRow).where(WorkflowRow.name == name))
        if workflow is None:
            raise NotFound(f"No workflow named {name!r}.")
        rows = s.execute(
            select(
                WorkflowRunRow.created_at,
                WorkflowRunRow.started_at,
                WorkflowRunRow.finished_at,
                WorkflowRunRow.status,
            ).where(WorkflowRunRow.workflow_id == workflow.id, WorkflowRunRow.created_at >= before)
        ).all()
    current = [r for r in rows if as_utc(r.created_at) >= start]
    previous = [r for r in rows if as_utc(r.created_at) < start]

    def rate(group) -> float | None:
        ended = [r for r in group if r.status in ("succeeded", "failed")]
        return sum(r.status == "succeeded" for r in ended) / len(ended) if ended else None

    durations = sorted(
        (as_utc(r.finished_at) - as_utc(r.started_at)).total_seconds()
        for r in current
        if r.started_at is not None and r.finished_at is not None
    )
    median = None
    if durations:
        middle = len(durations) // 2
        median = (
            durations[middle]
            if len(durations) % 2
            else (durations[middle - 1] + durations[middle]) / 2
        )
    first_day = (now - timedelta(days=days - 1)).date()
    daily = [0] * days
    for r in current:
        index = (as_utc(r.created_at).date() - first_day).days
        if 0 <= index < days:
            daily[index] += 1
    return RunStats(
        days, len(current), len(previous), rate(current), rate(previous), median, tuple(daily)
    )

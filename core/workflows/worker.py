"""The worker: scheduler ticks, run admission, step claims, and the child processes.

One loop, one thread: each turn it takes back steps of vanished workers, fires due
triggers, admits queued runs, claims as many ready steps as it has free children, and
waits (on the children's pipes) until a step finishes or it is time to look again.
All state lives in the store, so a worker can be killed at any moment and another (or
the same, restarted) carries on.
"""

from __future__ import annotations

import logging
import random
import signal
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError

from core.fleet import rollouts as fleet_rollouts
from core.store.models import as_utc
from core.workflows import engine, triggers
from core.workflows.models import WorkflowRunRow, WorkflowStepRow, WorkflowWorkerRow
from core.workflows.pool import Pool, ProcessPool
from core.workflows.runs import admit_queued
from core.workflows.state import ACTIVE_RUN, CANCELLED, QUEUED, READY, RUNNING
from core.workflows.tasks.base import Clock, SystemClock

log = logging.getLogger(__name__)
RECLAIM_EVERY_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """What a worker did while it ran."""

    steps: int
    runs_fired: int
    seconds: float


class Worker:
    """Runs workflows from the store until told to stop."""

    def __init__(
        self,
        services,
        *,
        pool: Pool | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        schedule: bool = True,
        slots: int | None = None,
    ) -> None:
        self.services = services
        self.cfg = services.settings.workflows
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.schedule = schedule
        self.identity = engine.WorkerIdentity(id=f"w-{uuid.uuid4().hex[:12]}")
        self.pool = pool or ProcessPool(services, slots or self.cfg.worker_slots)
        self.stopping = False
        self.steps_done = 0
        self.runs_fired = 0
        self._last_beat = 0.0
        self._last_reclaim = 0.0
        self._unsettled: list = []
        with services.store.writing() as s:
            now = self.clock.now()
            s.add(
                WorkflowWorkerRow(
                    id=self.identity.id,
                    hostname=self.identity.hostname,
                    pid=self.identity.pid,
                    started_at=now,
                    last_seen=now,
                    steps_done=0,
                )
            )

    # --- one turn ---------------------------------------------------------------------

    def _beat(self, now: datetime) -> None:
        """Heartbeat: renew leases of running steps; stop the ones cancelled meanwhile."""
        running = [c.step_run_id for c in self.pool.running()]
        with self.services.store.writing() as s:
            row = s.get(WorkflowWorkerRow, self.identity.id)
            if row is not None:
                row.last_seen, row.steps_done = now, self.steps_done
            lease = now + timedelta(seconds=self.cfg.lease_seconds)
            lost = engine.renew(s, self.identity, running, lease)
        for step_run_id in lost:
            if (claim := self.pool.stop(step_run_id)) is not None:
                log.info("stopped %s of run %s: no longer ours", claim.step_id, claim.run_id)

    def turn(self, *, run_id: int | None = None, wait: float | None = None) -> int:
        """One pass of the loop; returns how many steps finished or started."""
        now = self.clock.now()
        moment = time.monotonic()
        if moment - self._last_beat >= max(0.2, self.cfg.lease_seconds / 3):
            self._beat(now)
            self._last_beat = moment
        if moment - self._last_reclaim >= RECLAIM_EVERY_SECONDS:
            with self.services.store.writing() as s:
                engine.reclaim_lost(
                    s, self.identity, now, rng=self.rng, output_limit=self.cfg.output_limit_bytes
                )
            self._last_reclaim = moment
        if self.schedule and not self.stopping and triggers.anything_due(self.services, now):
            self.runs_fired += len(triggers.tick(self.services, now).fired)
        if self.schedule and not self.stopping:  # staged model rollouts advance here too
            fleet_rollouts.tick_if_running(self.services.store, now)
        finished = self.pool.poll(0.0)
        work = self._settle_and_claim(finished, now, run_id)
        if not work:
            results = self.pool.poll(self.cfg.poll_seconds if wait is None else wait)
            work = self._settle_and_claim(results, self.clock.now(), run_id)
        return work

    def _settle_and_claim(self, finished, now: datetime, run_id: int | None) -> int:
        """Record finished steps, admit runs and claim steps in one transaction.

        If the store fails (a lost connection, a deadlock victim), the results are kept
        and recorded on the next turn instead of being lost.
        """
        finished = self._unsettled + list(finished)
        self._unsettled = []
        try:
            return self._settle_and_claim_once(finished, now, run_id)
        except DBAPIError as exc:
            log.warning("store error, retrying next turn: %s", str(exc).splitlines()[0])
            self._unsettled = finished
            return 0

    def _anything_to_start(self, now: datetime, run_id: int | None) -> bool:
        """A read-only look for queued runs or due ready steps (no write lock, no commit)."""
        ready = (
            select(WorkflowStepRow.id)
            .join(WorkflowRunRow, WorkflowRunRow.id == WorkflowStepRow.run_id)
            .where(
                WorkflowStepRow.status == READY,
                WorkflowRunRow.status == RUNNING,
                or_(
                    WorkflowStepRow.next_attempt_at.is_(None),
                    WorkflowStepRow.next_attempt_at <= now,
                ),
            )
            .limit(1)
        )
        if run_id is not None:
            ready = ready.where(WorkflowStepRow.run_id == run_id)
        queued = select(WorkflowRunRow.id).where(WorkflowRunRow.status == QUEUED).limit(1)
        with self.services.store.session() as s:
            return s.scalar(queued) is not None or s.scalar(ready) is not None

    def _settle_and_claim_once(self, finished, now: datetime, run_id: int | None) -> int:
        free = 0 if self.stopping else self.pool.free_slots()
        if not finished and (not free or not self._anything_to_start(now, run_id)):
            return 0
        with self.services.store.writing() as s:
            for claim, outcome in finished:
                engine.finish_step(
                    s,
                    self.identity,
                    claim,
                    outcome,
                    now,
                    output_limit=self.cfg.output_limit_bytes,
                    rng=self.rng,
                )
            self.steps_done += len(finished)
            admit_queued(s, now, self.cfg.max_runs)
            claims = (
                engine.claim_steps(
                    s,
                    self.identity,
                    now,
                    free,
                    lease_seconds=self.cfg.lease_seconds,
                    default_timeout=self.cfg.step_timeout_seconds,
                    run_id=run_id,
                )
                if free
                else []
            )
        for claim in claims:
            self.pool.submit(claim)
        return len(finished) + len(claims)

    # --- loops ------------------------------------------------------------------------

    def run_forever(self, *, handle_signals: bool = True) -> WorkerStats:
        """Work until SIGTERM/SIGINT; running steps are given back on the way out."""
        started = time.monotonic()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: setattr(self, "stopping", True))
        log.info("worker %s started (%d slots)", self.identity.id, self.pool.free_slots())
        try:
            while not self.stopping:
                try:
                    self.turn()
                except DBAPIError as exc:  # the store is unreachable for a moment
                    log.warning("store error: %s", str(exc).splitlines()[0])
                    time.sleep(self.cfg.poll_seconds)
        finally:
            self.close()
        return WorkerStats(self.steps_done, self.runs_fired, time.monotonic() - started)

    def run_until_done(self, run_ids: Iterable[int], *, timeout: float = 3600) -> bool:
        """Work until these runs have finished (True) or `timeout` seconds pass (False)."""
        ids = list(run_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.services.store.session() as s:
                open_runs = s.scalar(
                    select(WorkflowRunRow.id)
                    .where(WorkflowRunRow.id.in_(ids), WorkflowRunRow.status.in_(ACTIVE_RUN))
                    .limit(1)
                )
            if open_runs is None and not self.pool.running():
                return True
            self.turn(wait=0.05, run_id=ids[0] if len(ids) == 1 else None)
        return False

    def close(self) -> None:
        """Give back running steps (their attempt does not count), stop the children."""
        now = self.clock.now()
        running = self.pool.running()
        self.pool.close()
        with self.services.store.writing() as s:
            for claim in running:
                row = s.get(WorkflowStepRow, claim.step_run_id)
                if row is not None and row.status == CANCELLED:
                    continue
                engine.release(s, self.identity, claim, "The worker was stopped.", now)
            row = s.get(WorkflowWorkerRow, self.identity.id)
            if row is not None:
                row.stopped_at, row.last_seen, row.steps_done = now, now, self.steps_done
        log.info("worker %s stopped after %d steps", self.identity.id, self.steps_done)


def live_workers(services, now: datetime) -> list[WorkflowWorkerRow]:
    """Workers whose heartbeat is recent (within one lease)."""
    horizon = now - timedelta(seconds=services.settings.workflows.lease_seconds)
    with services.store.session() as s:
        rows = s.scalars(
            select(WorkflowWorkerRow).where(
                WorkflowWorkerRow.stopped_at.is_(None), WorkflowWorkerRow.last_seen >= horizon
            )
        ).all()
    return [r for r in rows if as_utc(r.last_seen) >= horizon]

"""Run and step statuses, write transactions that serialise workers, retry waits, definitions.

SQLite: every engine write transaction starts with BEGIN IMMEDIATE, which takes the
database's write lock up front, so a claim is exclusive and a read-then-write never
fails on a stale snapshot (other writers wait up to the busy timeout). PostgreSQL:
claims use SELECT ... FOR UPDATE SKIP LOCKED, so two workers never take the same row.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store import Store
from core.workflows.definition import RetryPolicy, WorkflowDef, from_data
from core.workflows.models import WorkflowVersionRow

# Runs
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, SKIPPED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "skipped",
)
ACTIVE_RUN = (QUEUED, RUNNING)
FINISHED_RUN = (SUCCEEDED, FAILED, CANCELLED, SKIPPED)
# Steps (SUCCEEDED, FAILED, RUNNING, SKIPPED and CANCELLED as for runs)
PENDING, READY, UPSTREAM_FAILED = "pending", "ready", "upstream_failed"
DONE_STEP = (SUCCEEDED, FAILED, SKIPPED, CANCELLED, UPSTREAM_FAILED)
BAD_STEP = (FAILED, CANCELLED, UPSTREAM_FAILED)
# Phases of a run: the main steps, then (after a failure) the on-failure steps
MAIN, ON_FAILURE = "main", "on_failure"


def is_postgres(store: Store) -> bool:
    return store.engine.dialect.name == "postgresql"


def retry_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed try number `attempt` (1-based).

    backoff * 2^(attempt-1), capped at max_backoff, then shortened by up to `jitter`
    of itself at random, so retries of many runs do not arrive together.
    """
    base = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempt - 1))
    return base * (1 - policy.jitter * rng.random())


_DEFINITIONS: dict[tuple[str, int, str], WorkflowDef] = {}


def definition_of(session: Session, workflow_id: int, version: int) -> WorkflowDef:
    """The parsed definition of a workflow version (cached: versions never change)."""
    known = session.info.setdefault("workflow_definitions", {})  # per transaction
    if (workflow_id, version) in known:
        return known[(workflow_id, version)]
    where = (WorkflowVersionRow.workflow_id == workflow_id, WorkflowVersionRow.version == version)
    found = session.execute(
        select(WorkflowVersionRow.id, WorkflowVersionRow.created_at).where(*where)
    ).first()
    if found is None:
        raise LookupError(f"workflow {workflow_id} has no version {version}")
    # Ids can come back after a delete (SQLite), and each test has its own database:
    # the key holds the database, the row and when it was written.
    key = (str(session.get_bind().url), found.id, str(found.created_at))
    if key not in _DEFINITIONS:
        if len(_DEFINITIONS) > 512:
            _DEFINITIONS.clear()
        data = session.scalar(select(WorkflowVersionRow.definition).where(*where))
        _DEFINITIONS[key] = from_data(data)
    known[(workflow_id, version)] = _DEFINITIONS[key]
    return _DEFINITIONS[key]

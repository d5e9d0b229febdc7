"""Engine semantics with a controllable clock: ordering, conditions, retries, failure paths,
overlap and concurrency, outputs, re-runs, lost workers. Steps run in-process (InlinePool).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import Field
from sqlalchemy import select

from core import audit
from core.auth import users
from core.auth.roles import Role, User
from core.errors import IntegrationError, PermissionDenied
from core.workflows import engine, history, runs, service
from core.workflows.definition import RetryPolicy, from_data
from core.workflows.models import WorkflowRunRow, WorkflowStepRow, WorkflowWorkerRow
from core.workflows.pool import InlinePool
from core.workflows.state import retry_delay
from core.workflows.tasks.base import TASK_TYPES, Params, TaskType, register
from core.workflows.worker import Worker

SYSTEM = User.system()
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CALLS: list[tuple[str, int]] = []  # (step id, attempt) in execution order
FAILURES: dict[str, int] = {}  # step id -> failures still to produce


class FakeClock:
    """A clock tests move by hand; `sleep` moves it too."""

    def __init__(self, start: datetime = T0) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class RecordParams(Params):
    value: str = ""
    rows: int = Field(0, ge=0)


def run_record(ctx, params: RecordParams):
    """Succeeds (after FAILURES[step] failures), returning what it saw."""
    CALLS.append((ctx.step_id, ctx.attempt))
    if FAILURES.get(ctx.step_id, 0) > 0:
        FAILURES[ctx.step_id] -= 1
        raise IntegrationError(f"{ctx.step_id} failed on purpose")
    if params.rows:
        return {
            "rows": [{"n": i, "text": "x" * 20} for i in range(params.rows)],
            "row_count": params.rows,
        }
    return {"value": params.value, "attempt": ctx.attempt}


@pytest.fixture(autouse=True)
def record_task() -> Iterator[None]:
    register(TaskType("record", "Record", "test task", RecordParams, run_record))
    CALLS.clear()
    FAILURES.clear()
    yield
    TASK_TYPES.pop("record", None)


def save(services, text_or_data, user: User = SYSTEM, now: datetime = T0):
    """Save a definition given as plain data."""
    return service.save_workflow(services, user, from_data(text_or_data), now=now)


def chain(name: str = "flow", *ids: str, **extra) -> dict:
    """A workflow of record steps, each after the previous."""
    steps = []
    for i, sid in enumerate(ids or ("a", "b", "c")):
        step = {"id": sid, "type": "record", "params": {"value": sid}}
        if i:
            step["depends_on"] = [steps[-1]["id"]]
        steps.append(step)
    return {"name": name, "steps": steps} | extra


def make_worker(services, clock: FakeClock, **kwargs) -> Worker:
    return Worker(
        services,
        pool=InlinePool(services, clock=clock),
        clock=clock,
        rng=random.Random(7),
        schedule=kwargs.pop("schedule", False),
        **kwargs,
    )


def settle(worker: Worker, turns: int = 200) -> None:
    """Turn the worker until it finds nothing to do at the current (fake) time."""
    for _ in range(turns):
        if worker.turn(wait=0) == 0:
            return
    raise AssertionError("the worker kept working")


def start(services, name: str = "flow") -> int:
    return history.start_run(services, SYSTEM, name).id


def detail(services, run_id: int) -> history.RunDetail:
    return history.run_detail(services, SYSTEM, run_id)


def statuses(services, run_id: int) -> dict[str, str]:
    return {s.step_id: s.status for s in detail(services, run_id).steps}


# --- ordering, conditions, outputs -----------------------------------------------------


def test_steps_run_after_their_upstreams_and_see_their_outputs(services):
    clock = FakeClock()
    save(
        services,
        {
            "name": "flow",
            "variables": {"greeting": "hi"},
            "steps": [
                {"id": "a", "type": "record", "params": {"value": "{{ variables.greeting }}"}},
                {"id": "b", "type": "record", "params": {"value": "b"}, "depends_on": ["a"]},
                {"id": "c", "type": "record", "params": {"value": "c"}, "depends_on": ["a"]},
                {
                    "id": "d",
                    "type": "record",
                    "params": {"value": "{{ steps.a.output.value }}-{{ steps.b.output.value }}"},
                    "depends_on": ["b", "c"],
                },
            ],
        },
    )
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    order = [sid for sid, _ in CALLS]
    assert order[0] == "a" and order[-1] == "d" and set(order[1:3]) == {"b", "c"}
    result = detail(services, run_id)
    assert result.run.status == "succeeded"
    assert result.step("d").output == {"value": "hi-b", "attempt": 1}
    assert result.run.steps_done == result.run.steps_total == 4


def test_a_false_condition_skips_the_branch_that_waits_on_it(services):
    clock = FakeClock()
    save(
        services,
        {
            "name": "flow",
            "variables": {"threshold": 1000},
            "steps": [
                {"id": "revenue", "type": "record", "params": {"value": "900"}},
                {
                    "id": "low",
                    "type": "condition",
                    "params": {
                        "expr": "{{ steps.revenue.output.value|int > variables.threshold }}"
                    },
                    "depends_on": ["revenue"],
                },
                {
                    "id": "mail",
                    "type": "record",
                    "when": "{{ steps.low.output }}",
                    "depends_on": ["low"],
                },
                {"id": "after_mail", "type": "record", "depends_on": ["mail"]},
                {"id": "other", "type": "record", "depends_on": ["low"]},
            ],
        },
    )
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    assert statuses(services, run_id) == {
        "revenue": "succeeded",
        "low": "succeeded",
        "mail": "skipped",
        "after_mail": "skipped",
        "other": "succeeded",
    }
    assert detail(services, run_id).step("low").output is False
    assert detail(services, run_id).run.status == "succeeded"
    assert ("mail", 1) not in CALLS


def test_big_outputs_are_trimmed_to_the_limit_keeping_the_first_rows(services):
    settings = replace(
        services.settings, workflows=replace(services.settings.workflows, output_limit_bytes=4096)
    )
    small = replace(services, settings=settings)
    clock = FakeClock()
    save(
        small, {"name": "flow", "steps": [{"id": "a", "type": "record", "params": {"rows": 5000}}]}
    )
    worker = make_worker(small, clock)
    run_id = start(small)
    settle(worker)
    step = detail(small, run_id).step("a")
    assert step.status == "succeeded" and step.output_truncated
    rows = step.output["rows"]
    assert 0 < len(rows) < 5000 and rows[:3] == [{"n": i, "text": "x" * 20} for i in range(3)]
    assert step.output["truncated"] is True and step.output["row_count"] == 5000
    import json

    assert len(json.dumps(step.output, separators=(",", ":"))) <= 4096


# --- retries ------------------------------------------------------------------------------


def test_retry_delay_doubles_is_capped_and_jitter_only_shortens():
    policy = RetryPolicy(attempts=5, backoff_seconds=10, max_backoff_seconds=30, jitter=0)
    rng = random.Random(1)
    assert [retry_delay(policy, n, rng) for n in (1, 2, 3, 4)] == [10, 20, 30, 30]
    jittered = RetryPolicy(attempts=5, backoff_seconds=10, max_backoff_seconds=3600, jitter=0.5)
    expected_rng = random.Random(3)
    rng = random.Random(3)
    for attempt in (1, 2, 3):
        base = 10 * 2 ** (attempt - 1)
        assert retry_delay(jittered, attempt, rng) == pytest.approx(
            base * (1 - 0.5 * expected_rng.random())
        )
    delays = [retry_delay(jittered, 1, random.Random(s)) for s in range(200)]
    assert min(delays) >= 5 and max(delays) <= 10 and len(set(delays)) > 150


def test_a_failing_step_is_retried_after_the_backoff_then_succeeds(services):
    clock = FakeClock()
    data = chain("flow", "a", "b")
    data["steps"][1]["retry"] = {"attempts": 3, "backoff_seconds": 10, "jitter": 0}
    save(services, data)
    FAILURES["b"] = 2
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    step = detail(services, run_id).step("b")
    assert (step.status, step.attempt, step.next_attempt_at) == (
        "ready",
        1,
        T0 + timedelta(seconds=10),
    )
    clock.advance(9.9)
    settle(worker)
    assert detail(services, run_id).step("b").attempt == 1  # not yet
    clock.advance(0.1)
    settle(worker)
    step = detail(services, run_id).step("b")
    assert (step.attempt, step.next_attempt_at) == (2, clock.now() + timedelta(seconds=20))
    clock.advance(20)
    settle(worker)
    result = detail(services, run_id)
    assert result.run.status == "succeeded"
    assert [(a.attempt, a.status) for a in result.step("b").attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "succeeded"),
    ]
    assert result.step("b").attempts[0].error == "b failed on purpose"
    assert CALLS == [("a", 1), ("b", 1), ("b", 2), ("b", 3)]


def test_retries_use_the_jitter_drawn_from_the_workers_random_source(services):
    clock = FakeClock()
    data = chain("flow", "a")
    data["steps"][0]["retry"] = {"attempts": 2, "backoff_seconds": 100, "jitter": 0.5}
    save(services, data)
    FAILURES["a"] = 1
    worker = make_worker(services, clock)  # rng = Random(7)
    run_id = start(services)
    settle(worker)
    expected = 100 * (1 - 0.5 * random.Random(7).random())
    waited = (detail(services, run_id).step("a").next_attempt_at - T0).total_seconds()
    assert waited == pytest.approx(expected, abs=1e-5)


def test_when_retries_run_out_the_run_fails_and_later_steps_do_not_run(services):
    clock = FakeClock()
    data = chain("flow", "a", "b", "c")
    data["steps"][1]["retry"] = {"attempts": 2, "backoff_seconds": 1, "jitter": 0}
    save(services, data)
    FAILURES["b"] = 5
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    clock.advance(1)
    settle(worker)
    result = detail(services, run_id)
    assert result.run.status == "failed"
    assert result.run.error == "Step 'b' failed: b failed on purpose"
    assert statuses(services, run_id) == {"a": "succeeded", "b": "failed", "c": "upstream_failed"}


def test_template_errors_fail_at_once_without_retries(services):
    clock = FakeClock()
    save(
        services,
        {
            "name": "flow",
            "steps": [
                {
                    "id": "a",
                    "type": "record",
                    "params": {"value": "{{ steps.nothing.output }}"},
                    "retry": {"attempts": 5},
                }
            ],
        },
    )
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    step = detail(services, run_id).step("a")
    assert (step.status, step.attempt) == ("failed", 1)
    assert "undefined" in step.error and "params.value" in step.error


def test_the_on_failure_path_runs_when_a_step_fails_and_sees_which(services):
    clock = FakeClock()
    data = chain("flow", "a", "b")
    data["on_failure"] = [
        {
            "id": "alert",
            "type": "record",
            "params": {"value": "{{ run.failed_step }}: {{ run.error }}"},
        }
    ]
    save(services, data)
    FAILURES["a"] = 1
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    result = detail(services, run_id)
    assert result.run.status == "failed" and result.run.phase == "on_failure"
    assert result.step("alert").output["value"] == "a: a failed on purpose"
    assert statuses(services, run_id) == {
        "a": "failed",
        "b": "upstream_failed",
        "alert": "succeeded",
    }

    ok = start(services)
    settle(worker)
    assert statuses(services, ok) == {"a": "succeeded", "b": "succeeded", "alert": "skipped"}


def test_rerun_from_the_failed_step_reuses_what_succeeded_before(services):
    clock = FakeClock()
    save(services, chain("flow", "a", "b", "c"))
    FAILURES["b"] = 1
    worker = make_worker(services, clock)
    first = start(services)
    settle(worker)
    assert detail(services, first).run.status == "failed"
    CALLS.clear()
    again = history.rerun(services, SYSTEM, first)
    assert again.rerun_of == first
    settle(worker)
    result = detail(services, again.id)
    assert result.run.status == "succeeded"
    assert CALLS == [("b", 1), ("c", 1)]  # a was not run again
    assert result.step("a").reused and result.step("a").output == {"value": "a", "attempt": 1}


def test_a_step_whose_owner_lost_the_analyst_role_fails_with_the_reason(services, make_user):
    analyst = make_user(Role.ANALYST)
    clock = FakeClock()
    save(services, chain("flow", "a"), user=analyst)
    users.set_role(services.store, SYSTEM, analyst.id, Role.VIEWER)
    worker = make_worker(services, clock)
    run_id = start(services)
    settle(worker)
    assert "needs the analyst role" in detail(services, run_id).step("a").error


# --- overlap, concurrency, cancel ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overlap", "expected"),
    [
        ("skip", ["succeeded", "skipped"]),
        ("queue", ["succeeded", "succeeded"]),
        ("cancel", ["cancelled", "succeeded"]),
    ],
)
def test_overlap_policy_decides_what_a_second_run_does(services, overlap, expected):
    clock = FakeClock()
    save(services, chain("flow", "a", policy={"overlap": overlap}))
    first, second = start(services), start(services)
    settle(make_worker(services, clock))
    assert [detail(services, r).run.status for r in (first, second)] == expected
    if overlap == "skip":
        assert "overlap policy is skip" in detail(services, second).run.error


def test_per_workflow_and_global_concurrency_limits_hold_runs_in_the_queue(services):
    save(services, chain("one", "a", policy={"concurrency": 2}))
    save(services, chain("two", "a"))
    ids = [start(services, "one") for _ in range(3)] + [start(services, "two")]
    with services.store.writing() as s:
        assert runs.admit_queued(s, T0, max_runs=10) == [ids[0], ids[1], ids[3]]
    with services.store.writing() as s:
        assert runs.admit_queued(s, T0, max_runs=10) == []  # "one" is at 2
        status = dict(s.execute(select(WorkflowRunRow.id, WorkflowRunRow.status)).all())
    assert [status[i] for i in ids] == ["running", "running", "queued", "running"]

    save(services, chain("three", "a"))
    extra = start(services, "three")
    with services.store.writing() as s:
        assert runs.admit_queued(s, T0, max_runs=3) == []  # global limit: 3 running
        assert runs.admit_queued(s, T0, max_runs=4) == [extra]


def test_cancelling_a_run_cancels_its_unfinished_steps(services):
    save(services, chain("flow", "a", "b"))
    run_id = start(services)
    summary = history.cancel_run(services, SYSTEM, run_id)
    assert summary.status == "cancelled"
    assert set(statuses(services, run_id).values()) == {"cancelled"}
    with pytest.raises(Exception, match="already finished"):
        history.cancel_run(services, SYSTEM, run_id)


# --- workers that disappear ------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_step_held_by_a_dead_worker_on_this_host_is_retried_at_once(services):
    clock = FakeClock()
    data = chain("flow", "a")
    data["steps"][0]["retry"] = {"attempts": 2, "backoff_seconds": 0}
    save(services, data)
    run_id = start(services)
    ghost = engine.WorkerIdentity(id="w-ghost", pid=_dead_pid())
    with services.store.writing() as s:
        s.add(
            WorkflowWorkerRow(
                id=ghost.id, hostname=ghost.hostname, pid=ghost.pid, started_at=T0, last_seen=T0
            )
        )
        runs.admit_queued(s, T0, 10)
        (claim,) = engine.claim_steps(s, ghost, T0, 5, lease_seconds=300, default_timeout=60)
    assert claim.step_id == "a" and claim.attempt == 1
    worker = make_worker(services, clock)
    settle(worker)
    result = detail(services, run_id)
    assert result.run.status == "succeeded"
    assert [(a.attempt, a.status, a.worker) for a in result.step("a").attempts] == [
        (1, "failed", "w-ghost"),
        (2, "succeeded", worker.identity.id),
    ]
    assert "stopped before it finished" in result.step("a").attempts[0].error


def test_a_step_held_by_a_worker_elsewhere_waits_for_its_lease_to_run_out(services):
    clock = FakeClock()
    save(services, chain("flow", "a"))
    run_id = start(services)
    remote = engine.WorkerIdentity(id="w-remote", hostname="elsewhere", pid=1)
    with services.store.writing() as s:
        s.add(
            WorkflowWorkerRow(
                id=remote.id, hostname="elsewhere", pid=1, started_at=T0, last_seen=T0
            )
        )
        runs.admit_queued(s, T0, 10)
        engine.claim_steps(s, remote, T0, 5, lease_seconds=30, default_timeout=60)
    worker = make_worker(services, clock)
    settle(worker)
    assert statuses(services, run_id) == {"a": "running"}  # its lease still holds
    clock.advance(31)
    worker._last_reclaim = 0.0
    settle(worker)
    result = detail(services, run_id)
    assert result.run.status == "failed"  # one attempt only, and it was lost
    assert result.step("a").error.startswith("The worker running attempt 1 stopped")


def test_a_late_result_from_a_claim_that_was_taken_back_is_ignored(services):
    save(services, chain("flow", "a"))
    run_id = start(services)
    me = engine.WorkerIdentity(id="w-me")
    with services.store.writing() as s:
        runs.admit_queued(s, T0, 10)
        (claim,) = engine.claim_steps(s, me, T0, 5, lease_seconds=30, default_timeout=60)
    with services.store.writing() as s:
        history_row = s.get(WorkflowStepRow, claim.step_run_id)
        history_row.claimed_by = "w-other"  # someone took it back meanwhile
    with services.store.writing() as s:
        kept = engine.finish_step(
            s,
            me,
            claim,
            engine.Outcome("succeeded", {"x": 1}),
            T0,
            output_limit=10_000,
            rng=random.Random(),
        )
    assert kept is False
    assert statuses(services, run_id) == {"a": "running"}


# --- roles and audit -----------------------------------------------------------------------


def test_viewers_read_but_cannot_change_or_run(services, make_user):
    analyst, viewer = make_user(Role.ANALYST), make_user(Role.VIEWER)
    save(services, chain("flow", "a"), user=analyst)
    assert [w.name for w in service.list_workflows(services, viewer)] == ["flow"]
    assert service.get_workflow(services, viewer, "flow").owner == analyst.email
    for action in (
        lambda: service.save_workflow(services, viewer, from_data(chain("flow", "a", "b"))),
        lambda: history.start_run(services, viewer, "flow"),
        lambda: service.set_enabled(services, viewer, "flow", False),
        lambda: service.delete_workflow(services, viewer, "flow"),
    ):
        with pytest.raises(PermissionDenied, match="analyst role"):
            action()


def test_saving_versions_only_on_change_and_every_change_is_audited(services, make_user):
    analyst = make_user(Role.ANALYST)
    first = save(services, chain("flow", "a"), user=analyst)
    same = save(services, chain("flow", "a"), user=analyst)
    changed = save(services, chain("flow", "a", "b"), user=analyst)
    assert (first.version, same.version, changed.version, changed.versions) == (1, 1, 2, 2)
    assert [v.version for v in service.versions(services, analyst, "flow")] == [2, 1]
    assert [s.id for s in service.definition_at(services, analyst, "flow", 1).steps] == ["a"]
    history.start_run(services, analyst, "flow")
    service.set_enabled(services, analyst, "flow", False)
    service.delete_workflow(services, analyst, "flow")
    actions = [e.action for e in audit.list_events(services.store, SYSTEM) if e.target == "flow"]
    assert actions == [
        "workflow.delete",
        "workflow.disable",
        "workflow.run",
        "workflow.save",
        "workflow.save",
    ]


def test_yaml_export_and_import_round_trip(services):
    save(services, chain("flow", "a", "b", policy={"overlap": "skip"}))
    text = service.export_yaml(services, SYSTEM, "flow")
    assert text.startswith("name: flow\n") and "overlap: skip" in text
    copy = text.replace("name: flow", "name: copy")
    imported = service.import_yaml(services, SYSTEM, copy)
    assert (
        imported.definition.model_dump() | {"name": "flow"}
        == service.get_workflow(services, SYSTEM, "flow").definition.model_dump()
    )


def test_workers_record_their_heartbeat(services):
    clock = FakeClock()
    worker = make_worker(services, clock)
    worker.turn(wait=0)
    (info,) = history.workers(services, SYSTEM)
    assert (info.id, info.pid, info.stopped_at) == (worker.identity.id, os.getpid(), None)
    worker.close()
    assert history.workers(services, SYSTEM)[0].stopped_at == T0

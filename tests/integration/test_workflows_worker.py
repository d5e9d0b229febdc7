"""Real workers: steps in child processes, timeouts that kill them, crashes they survive,
kill -9 of a worker mid-step then a restart, and two workers sharing PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.auth.roles import User
from core.config import load_settings
from core.services import Services, open_services
from core.workflows import history, service
from core.workflows.definition import from_data
from core.workflows.engine import Outcome
from core.workflows.execute import execute
from core.workflows.models import WorkflowAttemptRow, WorkflowStepRow
from core.workflows.pool import ProcessPool
from core.workflows.worker import Worker
from tests.conftest import ROOT

SYSTEM = User.system()


def save(services: Services, data: dict) -> None:
    service.save_workflow(services, SYSTEM, from_data(data))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def start_worker(beacon_home) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `python -m core worker` processes with this test's environment."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        environment = dict(os.environ) | {"BEACON_WORKER_POLL_SECONDS": "0.2"} | env
        process = subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--slots", "2"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def test_a_step_past_its_timeout_has_its_process_stopped(services):
    save(
        services,
        {
            "name": "slow",
            "steps": [{"id": "nap", "type": "wait", "params": {"seconds": 60}, "timeout": 1}],
        },
    )
    worker = Worker(services, slots=1, schedule=False)
    try:
        (child,) = worker.pool.children
        first_pid = child.process.pid
        run = history.start_run(services, SYSTEM, "slow")
        started = time.monotonic()
        assert worker.run_until_done([run.id], timeout=30)
        took = time.monotonic() - started
        replacement = worker.pool.children[0].process.pid
    finally:
        worker.close()
    step = history.run_detail(services, SYSTEM, run.id).step("nap")
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error == "Timed out after 1 s; its process was stopped."
    assert 1 <= took < 10
    assert replacement != first_pid and not alive(first_pid)


def _crash_on_boom(services, claim, clock=None) -> Outcome:
    if claim.step_id == "boom":
        os._exit(3)  # a segfault-like death of the step's process
    return execute(services, claim, clock)


def test_a_crashing_step_process_does_not_take_the_worker_down(services):
    save(
        services,
        {
            "name": "crashy",
            "steps": [
                {"id": "boom", "type": "wait", "params": {"seconds": 0}},
                {"id": "fine", "type": "wait", "params": {"seconds": 0}},
            ],
        },
    )
    worker = Worker(services, pool=ProcessPool(services, 2, execute=_crash_on_boom), schedule=False)
    try:
        run = history.start_run(services, SYSTEM, "crashy")
        assert worker.run_until_done([run.id], timeout=30)
        again = history.start_run(services, SYSTEM, "crashy")  # the pool still works
        assert worker.run_until_done([again.id], timeout=30)
    finally:
        worker.close()
    for run_id in (run.id, again.id):
        detail = history.run_detail(services, SYSTEM, run_id)
        assert detail.step("boom").error == "The step's process died (exit code 3)."
        assert detail.step("fine").status == "succeeded"


def test_kill_9_mid_step_then_restart_retries_the_step_and_finishes(services, start_worker):
    save(
        services,
        {
            "name": "durable",
            "steps": [
                {
                    "id": "long",
                    "type": "wait",
                    "params": {"seconds": 2},
                    "retry": {"attempts": 2, "backoff_seconds": 0},
                },
                {"id": "after", "type": "wait", "params": {"seconds": 0}, "depends_on": ["long"]},
            ],
        },
    )
    run = history.start_run(services, SYSTEM, "durable")
    first = start_worker()

    def long_running() -> bool:
        return history.run_detail(services, SYSTEM, run.id).step("long").status == "running"

    wait_for(long_running, 60, "the first worker to start the step")
    step_processes = children_of(first.pid)
    assert step_processes, "the worker runs steps in child processes"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_for(lambda: not any(alive(p) for p in step_processes), 10, "the step processes to die")
    assert history.run_detail(services, SYSTEM, run.id).run.status == "running"

    start_worker()
    wait_for(
        lambda: history.run_detail(services, SYSTEM, run.id).run.finished, 60, "the run to finish"
    )
    detail = history.run_detail(services, SYSTEM, run.id)
    assert detail.run.status == "succeeded"
    long = detail.step("long")
    assert [(a.attempt, a.status) for a in long.attempts] == [(1, "failed"), (2, "succeeded")]
    assert "stopped before it finished" in long.attempts[0].error
    assert long.attempts[0].worker != long.attempts[1].worker
    assert [(a.attempt, a.status) for a in detail.step("after").attempts] == [(1, "succeeded")]


@pytest.mark.slow
def test_sigterm_gives_running_steps_back_without_using_an_attempt(services, start_worker):
    save(
        services,
        {"name": "polite", "steps": [{"id": "nap", "type": "wait", "params": {"seconds": 1.5}}]},
    )
    run = history.start_run(services, SYSTEM, "polite")
    first = start_worker()
    wait_for(
        lambda: history.run_detail(services, SYSTEM, run.id).step("nap").status == "running",
        60,
        "the step to start",
    )
    first.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    step = history.run_detail(services, SYSTEM, run.id).step("nap")
    assert (step.status, step.max_attempts) == ("ready", 2)
    start_worker()
    wait_for(lambda: history.run_detail(services, SYSTEM, run.id).run.finished, 60, "the run")
    step = history.run_detail(services, SYSTEM, run.id).step("nap")
    assert [(a.attempt, a.status) for a in step.attempts] == [(1, "interrupted"), (2, "succeeded")]


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_run_the_same_step(postgres_url, start_worker, monkeypatch):
    monkeypatch.setenv("BEACON_DATABASE_URL", postgres_url)
    services = open_services(load_settings())
    try:
        steps = [{"id": f"s{i}", "type": "wait", "params": {"seconds": 0.05}} for i in range(12)]
        save(services, {"name": "wide", "steps": steps, "policy": {"concurrency": 10}})
        run_ids = [history.start_run(services, SYSTEM, "wide").id for _ in range(6)]
        start_worker(BEACON_DATABASE_URL=postgres_url)
        start_worker(BEACON_DATABASE_URL=postgres_url)

        def finished() -> bool:
            return all(history.run_detail(services, SYSTEM, r).run.finished for r in run_ids)

        wait_for(finished, 120, "72 steps on two workers")
        with services.store.session() as s:
            attempts = s.execute(
                select(
                    WorkflowAttemptRow.step_run_id,
                    func.count(),
                    func.min(WorkflowAttemptRow.worker),
                ).group_by(WorkflowAttemptRow.step_run_id)
            ).all()
            workers = set(s.scalars(select(WorkflowAttemptRow.worker)))
            statuses = set(s.scalars(select(WorkflowStepRow.status)))
        assert len(attempts) == 72
        assert {count for _, count, _ in attempts} == {1}  # no step ran twice
        assert len(workers) == 2  # both took work
        assert statuses == {"succeeded"}
        assert {history.run_detail(services, SYSTEM, r).run.status for r in run_ids} == {
            "succeeded"
        }
    finally:
        services.store.engine.dispose()

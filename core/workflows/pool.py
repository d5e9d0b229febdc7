"""Where steps run: child processes of the worker, one step at a time each.

The worker forks its children once (and again whenever one has to be replaced), so a
step costs a message, not a process start. A child that crashes, or runs past its
step's timeout and is killed, takes only that step down: the worker records the
attempt as failed and forks a replacement. Children die with the worker (Linux
parent-death signal), so a kill -9 of the worker leaves no step running unseen.

`InlinePool` runs steps in the calling process, for tests of engine semantics.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from core.workflows.engine import Claim, Outcome

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
JOBS_PER_CHILD = 500  # a fresh process now and then: no slow leak outlives it


class Pool(Protocol):
    """Runs claimed steps; the worker asks it for finished ones."""

    def free_slots(self) -> int: ...

    def submit(self, claim: Claim) -> None: ...

    def poll(self, timeout: float) -> list[tuple[Claim, Outcome]]: ...

    def running(self) -> list[Claim]: ...

    def stop(self, step_run_id: int) -> Claim | None: ...

    def close(self) -> None: ...


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the orphan finishes its step and exits
        pass
    if os.getppid() != parent:
        os._exit(0)


def _child(connection: Connection, services: Any, parent: int, execute: Callable) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides about shutdown
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    services.store.engine.dispose(close=False)  # never share the parent's connections
    for _ in range(JOBS_PER_CHILD):
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            break
        claim = Claim(**json.loads(message))
        outcome = execute(services, claim)
        connection.send_bytes(json.dumps(asdict(outcome), default=str).encode("utf-8"))
    connection.close()
    os._exit(0)


@dataclass(slots=True)
class _Child:
    process: Any
    connection: Connection
    claim: Claim | None = None
    deadline: float = 0.0
    jobs: int = 0


class ProcessPool:
    """`slots` child processes, each running one step at a time."""

    def __init__(self, services: Any, slots: int, execute: Callable | None = None) -> None:
        if execute is None:
            from core.workflows.execute import execute as run_step

            execute = run_step
        from core.workflows.tasks.base import all_task_types

        all_task_types()  # import every task module once, before forking
        self.services = services
        self.execute = execute
        self.context = mp.get_context("fork")
        self.children = [self._spawn() for _ in range(slots)]

    def _spawn(self) -> _Child:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(
            target=_child,
            args=(child_end, self.services, os.getpid(), self.execute),
            daemon=True,
            name="beacon-step",
        )
        process.start()
        child_end.close()
        return _Child(process, parent_end)

    def _replace(self, child: _Child) -> None:
        if child.process.is_alive():
            child.process.kill()
        child.process.join(5)
        child.connection.close()
        self.children[self.children.index(child)] = self._spawn()

    def free_slots(self) -> int:
        return sum(1 for c in self.children if c.claim is None)

    def running(self) -> list[Claim]:
        return [c.claim for c in self.children if c.claim is not None]

    def submit(self, claim: Claim) -> None:
        child = next(c for c in self.children if c.claim is None)
        if not child.process.is_alive() or child.jobs >= JOBS_PER_CHILD:
            self._replace(child)
            child = next(c for c in self.children if c.claim is None)
        child.claim, child.deadline = claim, time.monotonic() + claim.timeout
        child.jobs += 1
        with contextlib.suppress(OSError):  # a child that died is recorded by the next poll
            child.connection.send_bytes(json.dumps(asdict(claim), default=str).encode("utf-8"))

    def poll(self, timeout: float) -> list[tuple[Claim, Outcome]]:
        busy = [c for c in self.children if c.claim is not None]
        if not busy:
            time.sleep(max(0.0, timeout))
            return []
        until_deadline = min(c.deadline for c in busy) - time.monotonic()
        waitables = [c.connection for c in busy] + [c.process.sentinel for c in busy]
        ready = set(wait(waitables, max(0.0, min(timeout, until_deadline))))
        finished: list[tuple[Claim, Outcome]] = []
        for child in busy:
            claim = child.claim
            if child.connection in ready:
                try:
                    data = json.loads(child.connection.recv_bytes())
                    finished.append((claim, Outcome(**data)))
                    child.claim = None
                    continue
                except (EOFError, OSError):
                    pass  # it died while answering: handled below
            if child.connection in ready or child.process.sentinel in ready:
                child.process.join(1)
                code = child.process.exitcode
                finished.append(
                    (claim, Outcome("failed", error=f"The step's process died (exit code {code})."))
                )
                child.claim = None
                self._replace(child)
            elif time.monotonic() >= child.deadline:
                log.warning("step %s of run %s timed out; stopping it", claim.step_id, claim.run_id)
                finished.append(
                    (
                        claim,
                        Outcome(
                            "failed",
                            error=f"Timed out after {claim.timeout:g} s; its process was stopped.",
                            duration_ms=int(claim.timeout * 1000),
                        ),
                    )
                )
                child.claim = None
                self._replace(child)
        return finished

    def stop(self, step_run_id: int) -> Claim | None:
        """Kill the process running this step (cancelled); the claim, if it was running."""
        for child in self.children:
            if child.claim is not None and child.claim.step_run_id == step_run_id:
                claim, child.claim = child.claim, None
                self._replace(child)
                return claim
        return None

    def close(self) -> None:
        for child in self.children:
            child.connection.close()
            if child.process.is_alive():
                child.process.kill()
            child.process.join(5)


class InlinePool:
    """Runs each step at submit time in this process (tests; no timeouts, no isolation)."""

    def __init__(self, services: Any, slots: int = 1, execute: Callable | None = None, clock=None):
        if execute is None:
            from core.workflows.execute import execute as run_step

            execute = run_step
        self.services, self.slots, self.execute, self.clock = services, slots, execute, clock
        self.done: list[tuple[Claim, Outcome]] = []

    def free_slots(self) -> int:
        return self.slots

    def running(self) -> list[Claim]:
        return []

    def submit(self, claim: Claim) -> None:
        outcome = self.execute(self.services, claim, self.clock)
        # Through JSON, as from a child process: the output must survive it.
        self.done.append((claim, Outcome(**json.loads(json.dumps(asdict(outcome), default=str)))))

    def poll(self, timeout: float) -> list[tuple[Claim, Outcome]]:
        done, self.done = self.done, []
        return done

    def stop(self, step_run_id: int) -> Claim | None:
        return None

    def close(self) -> None:
        pass

"""The device simulator: N edge agents on loopback, each a real device to Beacon.

An admin runs it (it creates or re-enrols devices `sim-01…` through core, so it needs
the store), then every agent enrols over the machine API, heartbeats, installs its
desired models and serves /infer on its own loopback port. Faults make rollouts and
routing meet real trouble:

    crash[:N]            N devices stop answering and reporting (after --crash-after s)
    slow[:N]             N devices answer /infer 300 ms late (p95 goes up)
    bad-model[:N][@V]    N devices get a corrupted copy of version V (any version if no @V),
                         so installing it fails
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.auth.roles import User
from core.errors import IntegrationError, UserInputError
from core.fleet import devices
from core.fleet.agent import Agent, AgentError, Faults
from core.fleet.tokens import TokenHasher
from core.store import Store

FAULT_MODES = ("crash", "slow", "bad-model")
SLOW_MS = 300.0
_FAIL = re.compile(r"^(crash|slow|bad-model)(?::(\d+|all))?(?:@(\d+))?$")


@dataclass(frozen=True, slots=True)
class FailSpec:
    """A fault for some of the simulated devices."""

    mode: str
    count: int | None = None  # None: every device
    version: int | None = None  # bad-model only


def parse_fail(text: str) -> FailSpec:
    """'crash', 'slow:2', 'bad-model:3@2' -> FailSpec, or UserInputError."""
    found = _FAIL.match(text.strip())
    if not found:
        raise UserInputError(
            f"--fail {text!r}: use MODE[:N][@VERSION] with MODE one of {', '.join(FAULT_MODES)}."
        )
    mode, count, version = found.groups()
    if version and mode != "bad-model":
        raise UserInputError("Only bad-model takes @VERSION.")
    return FailSpec(
        mode=mode,
        count=None if count in (None, "all") else int(count),
        version=int(version) if version else None,
    )


def assign_faults(n: int, specs: Sequence[FailSpec]) -> list[tuple[Faults, bool]]:
    """Per device: its injected faults and whether it is to crash (specs fill devices in order)."""
    slots: list[dict] = [{} for _ in range(n)]
    start = 0
    for spec in specs:
        count = n - start if spec.count is None else spec.count
        if count < 0 or start + count > n:
            raise UserInputError(f"More faulty devices than the {n} simulated.")
        for index in range(start, start + count):
            slots[index][spec.mode] = spec
        start = start + count if spec.count is not None else start
    plans = []
    for slot in slots:
        bad = slot.get("bad-model")
        faults = Faults(
            slow_ms=SLOW_MS if "slow" in slot else 0.0,
            bad_model=bad is not None,
            bad_versions=(bad.version,) if bad is not None and bad.version else (),
        )
        plans.append((faults, "crash" in slot))
    return plans


@dataclass
class Simulation:
    """Running agents; stop() ends them all."""

    agents: list[Agent]
    crashing: list[Agent] = field(default_factory=list)
    _timers: list[threading.Timer] = field(default_factory=list)

    def schedule_crashes(self, after_seconds: float) -> None:
        """Crash the devices given the crash fault after `after_seconds`."""
        for agent in self.crashing:
            timer = threading.Timer(after_seconds, agent.crash)
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def step_all(self) -> None:
        """One cycle of every agent that is up (tests drive the fleet with this)."""
        for agent in self.agents:
            if not agent.crashed:
                agent.step()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for agent in self.agents:
            agent.stop()


def enrolment_tokens(
    store: Store, hasher: TokenHasher, user: User, n: int, *, prefix: str, tags: Sequence[str]
) -> list[str]:
    """One-time tokens for devices PREFIX-01…: new devices are added, existing ones re-enrolled."""
    if not 1 <= n <= 200:
        raise UserInputError("Simulate between 1 and 200 devices.")
    known = {d.name for d in devices.list_devices(store, user)}
    tokens = []
    for index in range(1, n + 1):
        name = f"{prefix}-{index:02d}"
        if name in known:
            enrolment = devices.reissue_enrolment(store, hasher, user, name)
            devices.set_tags(store, user, name, tags)
        else:
            spec = devices.DeviceSpec(name, "x86-gateway", tags=tuple(tags), notes="simulated")
            enrolment = devices.add_device(store, hasher, user, spec)
        tokens.append(enrolment.token)
    return tokens


def start(
    api_url: str,
    tokens: Sequence[str],
    state_root: Path,
    *,
    specs: Sequence[FailSpec] = (),
    interval: float = 2.0,
    run_loops: bool = True,
) -> Simulation:
    """Enrol one agent per token and start it (its /infer on a free loopback port).

    With `run_loops=False` the agents serve /infer but only act when `step_all` is called.
    """
    plans = assign_faults(len(tokens), specs)
    agents: list[Agent] = []
    crashing: list[Agent] = []
    try:
        for index, (token, (faults, crash)) in enumerate(zip(tokens, plans, strict=True)):
            agent = Agent(
                api_url, state_root / f"agent-{index:02d}", faults=faults, interval=interval
            )
            agent.enrol(token, arch="x86_64", os_name="Beacon simulator")
            if run_loops:
                agent.start()
            else:
                agent.serve()
            agents.append(agent)
            if crash:
                crashing.append(agent)
    except AgentError as exc:
        for agent in agents:
            agent.stop()
        raise IntegrationError(f"A simulated device could not enrol: {exc}") from None
    return Simulation(agents, crashing)

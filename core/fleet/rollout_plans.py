"""Deployment plans: which devices a rollout reaches, in which waves, and the gate between.

A plan is a value (`Plan`) that turns a sorted list of eligible device names into waves.
Strategies register in `STRATEGIES`; each is a function `(plan, names) -> waves`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import UserInputError

ON_FAILURE = ("rollback", "stop")
WAVE_SIZING = ("exponential", "fixed")
MAX_WAVES = 50


@dataclass(frozen=True, slots=True)
class Gate:
    """Thresholds a wave must meet before the next one starts."""

    max_error_rate: float = 0.05  # errors / requests over the wave's active devices
    max_p95_ms: float = 1000.0  # worst device's p95 inference latency
    min_heartbeat_ratio: float = 1.0  # share of the wave heard from within the window
    window_seconds: int = 120  # how recent a heartbeat must be to count
    bake_seconds: int = 30  # how long the wave runs the new version before judging
    install_timeout_seconds: int = 600  # a device not active by then has failed
    max_failed: int = 0  # devices of a wave allowed to fail

    def check(self) -> Gate:
        """The gate, or UserInputError naming the bad threshold."""
        if not 0 <= self.max_error_rate <= 1:
            raise UserInputError("The error-rate threshold must be between 0 and 1.")
        if not 0 <= self.min_heartbeat_ratio <= 1:
            raise UserInputError("The heartbeat ratio must be between 0 and 1.")
        if self.max_p95_ms <= 0:
            raise UserInputError("The p95 latency threshold must be above 0 ms.")
        for name in ("window_seconds", "bake_seconds", "install_timeout_seconds", "max_failed"):
            if getattr(self, name) < 0:
                raise UserInputError(f"The gate's {name.replace('_', ' ')} cannot be negative.")
        if self.window_seconds == 0 or self.install_timeout_seconds == 0:
            raise UserInputError("The heartbeat window and install timeout must be above 0.")
        return self


@dataclass(frozen=True, slots=True)
class Plan:
    """How a rollout proceeds: strategy, devices (by tags), wave sizes, gate, on failure."""

    strategy: str = "canary"  # one of STRATEGIES
    tags: tuple[str, ...] = ()  # devices carrying every one of these tags (none: all)
    canary_percent: float = 10.0
    canary_devices: tuple[str, ...] = ()  # named devices first (instead of a percentage)
    sizing: str = "exponential"  # waves: 1, 2, 4, ... or the fixed sizes below
    wave_sizes: tuple[int, ...] = (1,)
    on_failure: str = "rollback"
    gate: Gate = field(default_factory=Gate)

    def to_json(self) -> dict[str, Any]:
        """The plan as stored."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """A stored plan back as a value."""
        values = dict(data)
        values["gate"] = Gate(**values.get("gate", {}))
        for name in ("tags", "canary_devices", "wave_sizes"):
            values[name] = tuple(values.get(name, ()))
        return cls(**values)

    def check(self) -> Plan:
        """The plan, or UserInputError saying what to fix."""
        if self.strategy not in STRATEGIES:
            raise UserInputError(f"Rollout strategy must be one of {', '.join(STRATEGIES)}.")
        if self.on_failure not in ON_FAILURE:
            raise UserInputError(f"On failure must be one of {', '.join(ON_FAILURE)}.")
        if self.sizing not in WAVE_SIZING:
            raise UserInputError(f"Wave sizing must be one of {', '.join(WAVE_SIZING)}.")
        if not 0 < self.canary_percent <= 100:
            raise UserInputError("The canary percentage must be above 0 and at most 100.")
        if not self.wave_sizes or any(size < 1 for size in self.wave_sizes):
            raise UserInputError("Wave sizes must be whole numbers of at least 1.")
        self.gate.check()
        return self


def _spread(names: Sequence[str]) -> list[str]:
    """Names in a stable but name-independent order, so canaries are not always 'a…'."""
    return sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())


def _all(plan: Plan, names: Sequence[str]) -> list[list[str]]:
    return [list(names)]


def _canary(plan: Plan, names: Sequence[str]) -> list[list[str]]:
    if plan.canary_devices:
        missing = sorted(set(plan.canary_devices) - set(names))
        if missing:
            raise UserInputError(
                f"Canary device(s) {', '.join(missing)} are not among the rollout's devices."
            )
        first = [n for n in names if n in plan.canary_devices]
    else:
        count = max(1, math.ceil(len(names) * plan.canary_percent / 100))
        first = sorted(_spread(names)[:count])
    rest = [n for n in names if n not in first]
    return [first, rest] if rest else [first]


def _waves(plan: Plan, names: Sequence[str]) -> list[list[str]]:
    ordered = _spread(names)
    waves: list[list[str]] = []
    size, index = plan.wave_sizes[0], 0
    while ordered:
        waves.append(sorted(ordered[:size]))
        ordered = ordered[size:]
        index += 1
        if plan.sizing == "exponential":
            size *= 2
        else:
            size = plan.wave_sizes[min(index, len(plan.wave_sizes) - 1)]
    if len(waves) > MAX_WAVES:
        raise UserInputError(f"The plan makes {len(waves)} waves: use larger waves (at most 50).")
    return waves


STRATEGIES: dict[str, Callable[[Plan, Sequence[str]], list[list[str]]]] = {
    "all": _all,
    "canary": _canary,
    "waves": _waves,
}
STRATEGY_LABELS = {
    "all": "All at once",
    "canary": "Canary, then everyone",
    "waves": "Staged waves",
}


def parse_sizes(text: str) -> tuple[int, ...]:
    """'2, 5, 10' -> (2, 5, 10), or UserInputError."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise UserInputError("Wave sizes are whole numbers above 0, separated by commas.")
    return tuple(int(p) for p in parts)


def plan_waves(plan: Plan, names: Sequence[str]) -> list[list[str]]:
    """The waves of `plan` over the eligible devices `names` (each device in one wave)."""
    plan.check()
    unique = sorted(set(names))
    if not unique:
        raise UserInputError("No active device matches the rollout's tags.")
    return [wave for wave in STRATEGIES[plan.strategy](plan, unique) if wave]

"""Liveness and health of devices: two different questions.

Liveness is how long ago a device was last heard from, against the heartbeat interval
N: online up to 3N (two missed heartbeats are tolerated), stale up to 20N, offline
after that. Health is what its latest heartbeat says: a device can be online and
unhealthy (a hot, full or overloaded device still posts). Health rules are a registry;
the worst verdict wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ONLINE, STALE, OFFLINE, NEVER = "online", "stale", "offline", "never seen"
LIVENESS = (ONLINE, STALE, OFFLINE, NEVER)
HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN = "healthy", "degraded", "unhealthy", "unknown"
HEALTH = (HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN)
_RANK = {HEALTHY: 0, UNKNOWN: 0, DEGRADED: 1, UNHEALTHY: 2}
STALE_AFTER, OFFLINE_AFTER = 3, 20  # heartbeat intervals


def liveness(last_seen: datetime | None, now: datetime, interval_seconds: int) -> str:
    """online, stale, offline or never seen."""
    if last_seen is None:
        return NEVER
    age = (now - last_seen).total_seconds()
    if age <= STALE_AFTER * interval_seconds:
        return ONLINE
    if age <= OFFLINE_AFTER * interval_seconds:
        return STALE
    return OFFLINE


@dataclass(frozen=True, slots=True)
class HealthRule:
    """A reading with the levels at which it degrades a device and makes it unhealthy."""

    name: str
    field: str
    degraded_at: float
    unhealthy_at: float
    describe: Callable[[float], str]


HEALTH_RULES: dict[str, HealthRule] = {}


def register(rule: HealthRule) -> HealthRule:
    """Add a health rule."""
    HEALTH_RULES[rule.name] = rule
    return rule


register(HealthRule("cpu", "cpu_pct", 85, 97, lambda v: f"CPU at {v:.0f}%"))
register(HealthRule("memory", "mem_pct", 85, 95, lambda v: f"memory at {v:.0f}%"))
register(HealthRule("disk", "disk_pct", 85, 95, lambda v: f"disk at {v:.0f}%"))
register(HealthRule("temperature", "temp_c", 75, 85, lambda v: f"temperature {v:.0f} °C"))
register(HealthRule("latency", "latency_p99_ms", 250, 1000, lambda v: f"p99 inference {v:.0f} ms"))


@dataclass(frozen=True, slots=True)
class Assessment:
    """A device's health and the readings behind it."""

    health: str
    reasons: tuple[str, ...]


def assess(readings: dict[str, Any]) -> Assessment:
    """Health from one heartbeat's readings (a missing reading is not held against it)."""
    worst, reasons = HEALTHY, []
    seen = False
    for rule in HEALTH_RULES.values():
        value = readings.get(rule.field)
        if value is None:
            continue
        seen = True
        verdict = (
            UNHEALTHY
            if value >= rule.unhealthy_at
            else DEGRADED
            if value >= rule.degraded_at
            else HEALTHY
        )
        if verdict != HEALTHY:
            reasons.append(rule.describe(float(value)))
        if _RANK[verdict] > _RANK[worst]:
            worst = verdict
    return Assessment(worst if seen else UNKNOWN, tuple(reasons))

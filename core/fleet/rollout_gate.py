"""The health gate between waves: a pure verdict from device reports, heartbeats and a clock.

Each device of a wave is failed (it reported a failure, or was not active within the
install timeout), active (it reports the rollout's version as active), or still on its
way. The wave passes once every device is active or failed, the bake time is over, and
the error rate, worst p95 latency, failures and heartbeat share are within the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.fleet.rollout_plans import Gate

WAIT, PASS, FAIL = "wait", "pass", "fail"


@dataclass(frozen=True, slots=True)
class Observation:
    """What the store knows about one device of the wave."""

    device: str
    state: str  # the device's rollout state (see core.fleet.rollouts.DEVICE_STATES)
    changed_at: datetime  # when that state was reached
    last_seen_at: datetime | None  # latest heartbeat
    requests: int = 0  # served by the rollout's version since it was loaded
    errors: int = 0
    p95_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's decision with the numbers it was made on."""

    decision: str  # wait, pass or fail
    reasons: tuple[str, ...]
    active: int
    failed: int
    waiting: int
    error_rate: float | None
    p95_ms: float | None
    heartbeat_ratio: float | None

    def to_json(self) -> dict:
        """The verdict as stored on the rollout."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "active": self.active,
            "failed": self.failed,
            "waiting": self.waiting,
            "error_rate": self.error_rate,
            "p95_ms": self.p95_ms,
            "heartbeat_ratio": self.heartbeat_ratio,
        }


def timed_out(gate: Gate, wave_started_at: datetime, now: datetime) -> bool:
    """Whether devices of the wave that are not active yet count as failed."""
    return now - wave_started_at >= timedelta(seconds=gate.install_timeout_seconds)


def evaluate(
    gate: Gate, wave_started_at: datetime, wave: Sequence[Observation], now: datetime
) -> Verdict:
    """Wait, pass or fail for one wave at `now`."""
    late = timed_out(gate, wave_started_at, now)
    active = [o for o in wave if o.state == "active"]
    failed = [o for o in wave if o.state == "failed" or (late and o.state != "active")]
    waiting = len(wave) - len(active) - len(failed)
    requests = sum(o.requests for o in active)
    error_rate = sum(o.errors for o in active) / requests if requests else None
    latencies = [o.p95_ms for o in active if o.p95_ms is not None]
    p95 = max(latencies) if latencies else None
    window = timedelta(seconds=gate.window_seconds)
    heard = [o for o in active if o.last_seen_at is not None and now - o.last_seen_at <= window]
    ratio = len(heard) / len(active) if active else None
    baked = bool(active) and now - max(o.changed_at for o in active) >= timedelta(
        seconds=gate.bake_seconds
    )

    reasons: list[str] = []
    if len(failed) > gate.max_failed:
        names = ", ".join(o.device for o in failed[:5])
        reasons.append(f"{len(failed)} device(s) failed ({names}); allowed {gate.max_failed}")
    if error_rate is not None and error_rate > gate.max_error_rate:
        reasons.append(f"error rate {error_rate:.1%} above {gate.max_error_rate:.1%}")
    if p95 is not None and p95 > gate.max_p95_ms:
        reasons.append(f"p95 latency {p95:.0f} ms above {gate.max_p95_ms:.0f} ms")
    if baked and ratio is not None and ratio < gate.min_heartbeat_ratio:
        reasons.append(
            f"heartbeats from {ratio:.0%} of the wave within {gate.window_seconds} s, "
            f"below {gate.min_heartbeat_ratio:.0%}"
        )
    if not active and not waiting and failed and not reasons:
        reasons.append("no device of the wave became active")
    if reasons:
        decision = FAIL
    elif waiting or not baked:
        decision = WAIT
        reasons.append(
            f"{waiting} device(s) still installing" if waiting else "baking the new version"
        )
    else:
        decision = PASS
    return Verdict(
        decision=decision,
        reasons=tuple(reasons),
        active=len(active),
        failed=len(failed),
        waiting=waiting,
        error_rate=error_rate,
        p95_ms=p95,
        heartbeat_ratio=ratio,
    )

"""Inference routing: send a request to one of the devices serving a model.

Strategies pick a device from the healthy ones and register in `STRATEGIES`:

    round-robin         each device in turn
    least-connections   the device with the fewest requests in flight
    weighted            smooth weighted round robin (nginx's): shares follow weights exactly
    consistent-hash     a hash ring with virtual nodes: the same key goes to the same
                        device, and removing a device moves only that device's keys
    random              uniformly at random

Every device has a circuit breaker in the shared registry (core.integrations.breaker):
connection failures, timeouts and 5xx answers count as outages, an open breaker takes
the device out of rotation, and after the cool-down a trial request (or a health check)
brings it back. A request that hits an outage is retried on another device.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from core.errors import IntegrationError, UserInputError
from core.fleet.device_models import ServingDevice
from core.integrations.breaker import OPEN, BreakerRegistry, CircuitOpen

INFER_SCOPE = "models:infer"  # one of service_accounts.SCOPES
BREAKER_THRESHOLD, BREAKER_RESET_SECONDS = 3, 10.0


class DeviceError(IntegrationError):
    """A device could not serve a request (down, timed out, or failed on its side)."""


class DeviceRefused(UserInputError):
    """A device answered that the request itself is wrong (4xx): not an outage."""


class Strategy(Protocol):
    """Picks one device for a request."""

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice: ...


class RoundRobin:
    """Each device in turn."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice:
        with self._lock:
            chosen = devices[self._next % len(devices)]
            self._next += 1
        return chosen


class LeastConnections:
    """The device with the fewest requests in flight (ties go round robin)."""

    def __init__(self, inflight: Callable[[str], int]) -> None:
        self._inflight = inflight
        self._ties = RoundRobin()

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice:
        loads = [self._inflight(d.device) for d in devices]
        fewest = min(loads)
        return self._ties.choose(
            [d for d, n in zip(devices, loads, strict=True) if n == fewest], key
        )


class Weighted:
    """Smooth weighted round robin: over sum(weights) picks, each device gets its weight."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._lock = threading.Lock()

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice:
        with self._lock:
            total = 0
            best: ServingDevice | None = None
            for device in devices:
                score = self._current.get(device.device, 0) + device.weight
                self._current[device.device] = score
                total += device.weight
                if best is None or score > self._current[best.device]:
                    best = device
            assert best is not None
            self._current[best.device] -= total
            return best


class ConsistentHash:
    """A hash ring with `vnodes` points per device; requests without a key go at random."""

    def __init__(self, vnodes: int = 160, rng: random.Random | None = None) -> None:
        self.vnodes = vnodes
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not secrets
        self._ring: tuple[tuple[int, ...], tuple[str, ...]] | None = None
        self._members: tuple[str, ...] = ()
        self._lock = threading.Lock()

    @staticmethod
    def _hash(text: str) -> int:
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")

    def _build(self, names: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[str, ...]]:
        points = sorted((self._hash(f"{n}#{i}"), n) for n in names for i in range(self.vnodes))
        return tuple(p for p, _ in points), tuple(n for _, n in points)

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice:
        by_name = {d.device: d for d in devices}
        names = tuple(sorted(by_name))
        with self._lock:
            if self._ring is None or names != self._members:
                self._ring, self._members = self._build(names), names
            hashes, owners = self._ring
        point = self._hash(key) if key else self._rng.getrandbits(64)
        index = bisect.bisect(hashes, point) % len(hashes)
        return by_name[owners[index]]


class Uniform:
    """Uniformly at random."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not secrets

    def choose(self, devices: Sequence[ServingDevice], key: str | None) -> ServingDevice:
        return self._rng.choice(list(devices))


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """A routing strategy: its label and how to build one for a router."""

    label: str
    build: Callable[[Router], Strategy]


STRATEGIES: dict[str, StrategyInfo] = {
    "round-robin": StrategyInfo("Round robin", lambda r: RoundRobin()),
    "least-connections": StrategyInfo("Least connections", lambda r: LeastConnections(r.inflight)),
    "weighted": StrategyInfo("Weighted (weight=N tags)", lambda r: Weighted()),
    "consistent-hash": StrategyInfo(
        "Consistent hashing on a key", lambda r: ConsistentHash(rng=r.rng)
    ),
    "random": StrategyInfo("Random", lambda r: Uniform(r.rng)),
}


# --- sending --------------------------------------------------------------------------

Transport = Callable[[ServingDevice, Mapping[str, Any], float], dict[str, Any]]


def http_transport(client: httpx.Client) -> Transport:
    """POST the request to the device's /infer; outages raise DeviceError."""

    def send(device: ServingDevice, body: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        try:
            answer = client.post(f"{device.endpoint}/infer", json=dict(body), timeout=timeout)
        except httpx.HTTPError as exc:
            raise DeviceError(f"{device.device}: {type(exc).__name__}: {exc}") from None
        if answer.status_code >= 500:
            raise DeviceError(f"{device.device} answered {answer.status_code}")
        if answer.status_code >= 400:
            raise DeviceRefused(f"{device.device}: {answer.text[:200]}")
        return answer.json()

    return send


def http_health(client: httpx.Client) -> Callable[[ServingDevice, float], bool]:
    """GET the device's /health: True when it answers 200."""

    def check(device: ServingDevice, timeout: float) -> bool:
        try:
            return client.get(f"{device.endpoint}/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    return check


@dataclass(frozen=True, slots=True)
class Routed:
    """One routed request: who served it, how long it took, and the answer."""

    device: str
    latency_ms: float
    attempts: int
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RoutingSummary:
    """Many routed requests: how they spread over the devices."""

    strategy: str
    requests: int
    failed: int
    by_device: dict[str, int]
    p50_ms: float | None
    p99_ms: float | None
    errors: tuple[str, ...] = field(default_factory=tuple)


class Router:
    """Routes requests for one model over the devices serving it."""

    def __init__(
        self,
        strategy: str,
        transport: Transport,
        *,
        breakers: BreakerRegistry | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        rng: random.Random | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise UserInputError(f"Routing strategy must be one of {', '.join(STRATEGIES)}.")
        self.name = strategy
        self.transport = transport
        self.breakers = breakers or BreakerRegistry()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()  # noqa: S311 - load spreading, not secrets
        self._inflight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.strategy = STRATEGIES[strategy].build(self)

    def inflight(self, device: str) -> int:
        """Requests in flight to `device` now."""
        with self._lock:
            return self._inflight[device]

    def breaker(self, device: str):
        """The device's breaker in the shared registry."""
        return self.breakers.get(
            f"device:{device}", threshold=BREAKER_THRESHOLD, reset_seconds=BREAKER_RESET_SECONDS
        )

    def healthy(self, devices: Sequence[ServingDevice]) -> list[ServingDevice]:
        """Devices whose breaker is not open."""
        return [d for d in devices if self.breaker(d.device).state != OPEN]

    def send(
        self, devices: Sequence[ServingDevice], body: Mapping[str, Any], key: str | None = None
    ) -> Routed:
        """Send to a device chosen by the strategy; outages are retried on another device."""
        tried: set[str] = set()
        errors: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            candidates = [d for d in self.healthy(devices) if d.device not in tried]
            if not candidates:
                break
            device = self.strategy.choose(candidates, key)
            tried.add(device.device)
            breaker = self.breaker(device.device)
            try:
                breaker.before_call()
            except CircuitOpen as exc:
                errors.append(str(exc))
                continue
            with self._lock:
                self._inflight[device.device] += 1
            started = time.perf_counter()
            try:
                answer = self.transport(device, body, self.timeout)
            except DeviceError as exc:
                breaker.record_failure(str(exc))
                errors.append(str(exc))
                continue
            except BaseException:
                breaker.record_success()  # it answered: the request was at fault
                raise
            finally:
                with self._lock:
                    self._inflight[device.device] -= 1
            breaker.record_success()
            return Routed(device.device, (time.perf_counter() - started) * 1000, attempt, answer)
        if not devices:
            raise DeviceError("No device serves this model right now.")
        detail = f" ({errors[-1]})" if errors else ""
        raise DeviceError(f"No healthy device could serve the request{detail}.")

    def check_health(
        self, devices: Sequence[ServingDevice], probe: Callable[[ServingDevice, float], bool]
    ) -> dict[str, bool]:
        """Probe each device not already paused: failures open breakers, answers close them.

        A device whose breaker is open is probed once its cool-down is over (half-open),
        which is how a recovered device comes back without waiting for live traffic.
        """
        results: dict[str, bool] = {}
        for device in devices:
            breaker = self.breaker(device.device)
            try:
                breaker.before_call()
            except CircuitOpen:
                results[device.device] = False
                continue
            ok = probe(device, self.timeout)
            if ok:
                breaker.record_success()
            else:
                breaker.record_failure("health check failed")
            results[device.device] = ok
        return results


def summarise(strategy: str, outcomes: Sequence[Routed | str]) -> RoutingSummary:
    """Count where routed requests went (strings are failures)."""
    routed = [o for o in outcomes if isinstance(o, Routed)]
    failures = tuple(o for o in outcomes if isinstance(o, str))
    latencies = sorted(o.latency_ms for o in routed)

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return RoutingSummary(
        strategy=strategy,
        requests=len(outcomes),
        failed=len(failures),
        by_device=dict(sorted(Counter(o.device for o in routed).items())),
        p50_ms=pct(0.5),
        p99_ms=pct(0.99),
        errors=failures[:10],
    )

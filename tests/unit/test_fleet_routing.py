"""Routing strategies, breakers and failover, over fake device transports."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from core.errors import UserInputError
from core.fleet.device_models import ServingDevice
from core.fleet.inference import run_requests, sample_rows
from core.fleet.routing import (
    STRATEGIES,
    ConsistentHash,
    DeviceError,
    Router,
    summarise,
)
from core.integrations.breaker import OPEN, BreakerRegistry

DEVICES = [ServingDevice(f"d{i}", f"http://127.0.0.1:{9000 + i}", 1, weight=i) for i in (1, 2, 3)]
N = 6000


class FakeFleet:
    """Devices answering in-process; some can be down or slow."""

    def __init__(self, down: set[str] = frozenset(), slow: dict[str, float] | None = None):
        self.down, self.slow = set(down), slow or {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, device: ServingDevice, body, timeout: float) -> dict:
        with self._lock:
            self.calls[device.device] += 1
        if device.device in self.down:
            raise DeviceError(f"{device.device}: ConnectError")
        if delay := self.slow.get(device.device):
            time.sleep(delay)
        return {"device": device.device, "outputs": {"y": [1]}}

    def probe(self, device: ServingDevice, timeout: float) -> bool:
        return device.device not in self.down


def shares(router: Router, n: int = N, devices=DEVICES, keyed: bool = False) -> dict[str, float]:
    got = Counter(
        router.send(devices, {}, key=f"user-{i}" if keyed else None).device for i in range(n)
    )
    return {name: count / n for name, count in sorted(got.items())}


def test_round_robin_and_weighted_shares_are_exact():
    assert shares(Router("round-robin", FakeFleet())) == {"d1": 1 / 3, "d2": 1 / 3, "d3": 1 / 3}
    # weights 1, 2, 3 -> 1/6, 2/6, 3/6, interleaved rather than in bursts
    weighted = Router("weighted", FakeFleet())
    assert shares(weighted) == {"d1": 1 / 6, "d2": 2 / 6, "d3": 3 / 6}
    first = [weighted.send(DEVICES, {}).device for _ in range(6)]
    assert first.count("d3") == 3 and first[:2] != ["d3", "d3"]


def test_random_and_consistent_hash_are_close_to_even():
    for strategy, keyed in (("random", False), ("consistent-hash", True)):
        router = Router(strategy, FakeFleet(), rng=random.Random(7))
        got = shares(router, keyed=keyed)
        assert set(got) == {"d1", "d2", "d3"}
        for share in got.values():
            assert share == pytest.approx(1 / 3, abs=0.06), (strategy, got)


def test_consistent_hash_keeps_keys_and_moves_only_the_removed_devices_keys():
    ring = ConsistentHash(vnodes=160)
    keys = [f"customer-{i}" for i in range(3000)]
    before = {k: ring.choose(DEVICES, k).device for k in keys}
    assert before == {k: ring.choose(list(reversed(DEVICES)), k).device for k in keys}
    after = {k: ring.choose(DEVICES[:2], k).device for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert moved and all(before[k] == "d3" for k in moved)
    assert len(moved) == sum(1 for k in keys if before[k] == "d3")


def test_least_connections_sends_less_to_a_slow_device():
    fleet = FakeFleet(slow={"d1": 0.02})
    router = Router("least-connections", fleet)
    summary = run_requests(router, DEVICES, {}, 300, concurrency=4)
    assert summary.failed == 0
    assert summary.by_device["d1"] < summary.by_device["d2"] / 2


def test_a_down_device_is_dropped_retried_elsewhere_and_brought_back():
    now = [1000.0]
    breakers = BreakerRegistry(clock=lambda: now[0])
    fleet = FakeFleet(down={"d2"})
    router = Router("round-robin", fleet, breakers=breakers)
    results = [router.send(DEVICES, {}) for _ in range(30)]
    assert {r.device for r in results} == {"d1", "d3"}  # callers never see the outage
    assert breakers.snapshot("device:d2").state == OPEN
    assert fleet.calls["d2"] == 3  # the breaker threshold, then no more traffic
    assert [d.device for d in router.healthy(DEVICES)] == ["d1", "d3"]

    fleet.down.clear()
    now[0] += 11  # the cool-down is over: a health check brings it back
    assert router.check_health(DEVICES, fleet.probe) == {"d1": True, "d2": True, "d3": True}
    assert "d2" in {router.send(DEVICES, {}).device for _ in range(3)}


def test_health_checks_open_breakers_of_dead_devices():
    breakers = BreakerRegistry()
    fleet = FakeFleet(down={"d1"})
    router = Router("random", fleet, breakers=breakers)
    for _ in range(3):
        router.check_health(DEVICES, fleet.probe)
    assert [d.device for d in router.healthy(DEVICES)] == ["d2", "d3"]


def test_all_down_and_no_devices_are_clear_errors():
    router = Router("round-robin", FakeFleet(down={"d1", "d2", "d3"}), breakers=BreakerRegistry())
    with pytest.raises(DeviceError, match="No healthy device"):
        router.send(DEVICES, {})
    with pytest.raises(DeviceError, match="No device serves"):
        router.send([], {})
    with pytest.raises(UserInputError, match="Routing strategy must be one of"):
        Router("fastest", FakeFleet())
    with pytest.raises(UserInputError, match="between 1 and"):
        run_requests(Router("random", FakeFleet()), DEVICES, {}, 0)


def test_every_strategy_is_registered_with_a_label():
    assert set(STRATEGIES) == {
        "round-robin",
        "least-connections",
        "weighted",
        "consistent-hash",
        "random",
    }
    assert all(info.label for info in STRATEGIES.values())


def test_summary_counts_and_sample_rows():
    summary = run_requests(Router("round-robin", FakeFleet()), DEVICES, {}, 9, concurrency=1)
    assert summary.by_device == {"d1": 3, "d2": 3, "d3": 3} and summary.failed == 0
    assert summarise("random", ["boom"]).failed == 1
    assert sample_rows({"shape": [None, 4]}, 2) == [[0.0] * 4, [0.0] * 4]
    assert sample_rows({}) == [[0.0]]

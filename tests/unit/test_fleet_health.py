"""Liveness vs health, the fleet summary, the device table, filters and hourly activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.auth.roles import User
from core.fleet import devices, heartbeats
from core.fleet.devices import Device, DeviceSpec
from core.fleet.health import HEALTH_RULES, assess, liveness
from core.fleet.heartbeats import Heartbeat, Incoming
from core.fleet.overview import activity, device_table, filter_table, online_at, summarise
from core.fleet.tokens import TokenHasher

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SYSTEM = User.system()


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (None, "never seen"),
        (0, "online"),
        (90, "online"),
        (91, "stale"),
        (600, "stale"),
        (601, "offline"),
    ],
)
def test_liveness_from_last_seen_age_with_a_30_s_interval(age, state):
    seen = None if age is None else NOW - timedelta(seconds=age)
    assert liveness(seen, NOW, 30) == state


@pytest.mark.parametrize(
    ("readings", "health", "reasons"),
    [
        ({}, "unknown", ()),
        ({"cpu_pct": 40, "temp_c": 50}, "healthy", ()),
        ({"cpu_pct": 85}, "degraded", ("CPU at 85%",)),
        ({"cpu_pct": 97, "mem_pct": 90}, "unhealthy", ("CPU at 97%", "memory at 90%")),
        ({"temp_c": 86.4}, "unhealthy", ("temperature 86 °C",)),
        ({"latency_p99_ms": 300}, "degraded", ("p99 inference 300 ms",)),
        ({"disk_pct": None, "mem_pct": 10}, "healthy", ()),
    ],
)
def test_health_is_the_worst_rule(readings, health, reasons):
    verdict = assess(readings)
    assert (verdict.health, verdict.reasons) == (health, reasons)


def test_every_rule_degrades_before_it_fails():
    assert all(r.degraded_at < r.unhealthy_at for r in HEALTH_RULES.values())


def device(
    name: str, status: str = "active", seen: float | None = 10, health: str = "healthy", **kw
) -> Device:
    return Device(
        id=hash(name) % 1000,
        name=name,
        kind=kw.get("kind", "iot"),
        arch="",
        os="",
        tags=kw.get("tags", ()),
        site=kw.get("site", ""),
        lat=kw.get("lat"),
        lon=kw.get("lon"),
        capabilities={},
        notes="",
        status=status,
        created_by="x",
        created_at=NOW,
        enrolled_at=NOW,
        enrol_expires_at=None,
        credential_issued_at=None,
        last_seen_at=None if seen is None else NOW - timedelta(seconds=seen),
        last_status={"health": health, "cpu_pct": 12.0, "reasons": []} if seen is not None else {},
        heartbeat_count=3,
    )


FLEET = [
    device(
        "a", health="unhealthy", kind="jetson", tags=("store-1",), site="Lyon", lat=45.7, lon=4.8
    ),
    device("b", health="degraded"),
    device("c", seen=200),  # stale
    device("d", seen=3600),  # offline: still unhealthy-capable but not counted as online
    device("e", seen=None),  # active, never seen
    device("f", status="pending", seen=None),
    device("g", status="retired", seen=None),
]


def test_summary_counts():
    summary = summarise(FLEET, NOW, 30)
    assert (summary.devices, summary.active) == (6, 5)
    assert (summary.online, summary.stale, summary.offline, summary.never_seen) == (2, 1, 1, 1)
    assert (summary.unhealthy, summary.degraded) == (1, 1)
    assert summary.by_kind == {"jetson": 1, "iot": 5}


def test_table_and_filters():
    table = device_table(FLEET, NOW, 30)
    assert table["liveness"].tolist() == [
        "online",
        "online",
        "stale",
        "offline",
        "never seen",
        "pending",
        "retired",
    ]
    assert table.loc[0, "last_seen_min"] == pytest.approx(10 / 60)
    assert filter_table(table, kinds=["jetson"])["name"].tolist() == ["a"]
    assert filter_table(table, liveness_in=["stale", "offline"])["name"].tolist() == ["c", "d"]
    assert filter_table(table, health_in=["degraded"])["name"].tolist() == ["b"]
    assert filter_table(table, tag="STORE-1")["name"].tolist() == ["a"]
    assert filter_table(table, text="lyo")["name"].tolist() == ["a"]
    assert len(filter_table(table)) == 7


def test_hourly_activity_counts_devices_heartbeats_and_unhealthy(services):
    hasher = TokenHasher.for_store(services.store)
    ids = []
    for name in ("x", "y"):
        token = devices.add_device(services.store, hasher, SYSTEM, DeviceSpec(name, "iot")).token
        ids.append(devices.enrol(services.store, hasher, token)[0].id)
    at = lambda h, m: NOW.replace(hour=h, minute=m)  # noqa: E731
    heartbeats.write_batch(
        services.store,
        [
            Incoming(ids[0], Heartbeat(cpu_pct=10), at(10, 5)),
            Incoming(ids[0], Heartbeat(cpu_pct=99), at(10, 35)),
            Incoming(ids[1], Heartbeat(cpu_pct=10), at(10, 40)),
            Incoming(ids[1], Heartbeat(cpu_pct=10), at(11, 59)),
            Incoming(ids[1], Heartbeat(cpu_pct=10), NOW - timedelta(hours=30)),  # too old
        ],
    )
    frame = activity(services.store, SYSTEM, NOW.replace(minute=20), hours=3)
    assert frame["hour"].dt.hour.tolist() == [10, 11, 12]
    assert frame["devices"].tolist() == [2, 1, 0]
    assert frame["heartbeats"].tolist() == [3, 1, 0]
    assert frame["unhealthy_devices"].tolist() == [1, 0, 0]
    # Online at a moment: heard from within 3 intervals (90 s) before it.
    assert online_at(services.store, SYSTEM, at(10, 36), 30) == 1  # a at 10:35
    assert online_at(services.store, SYSTEM, at(10, 40), 30) == 1  # b at 10:40; a is 5 min old
    assert online_at(services.store, SYSTEM, at(10, 41), 30) == 1
    assert online_at(services.store, SYSTEM, at(10, 35), 30) == 1
    assert online_at(services.store, SYSTEM, at(10, 39), 30) == 0

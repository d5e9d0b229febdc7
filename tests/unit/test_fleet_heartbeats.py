"""Heartbeat storage: group commit, nothing lost, revoked credentials refused, retention."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.auth.roles import User
from core.fleet import devices, heartbeats
from core.fleet.devices import DeviceSpec
from core.fleet.heartbeats import CredentialRevoked, Heartbeat, HeartbeatSink, Incoming
from core.fleet.models import HeartbeatRow
from core.fleet.tokens import TokenHasher
from core.store.models import utcnow

SYSTEM = User.system()


@pytest.fixture
def fleet(services):
    hasher = TokenHasher.for_store(services.store)
    found = {}
    for name in ("a", "b", "c"):
        token = devices.add_device(services.store, hasher, SYSTEM, DeviceSpec(name, "iot")).token
        device, credential = devices.enrol(services.store, hasher, token)
        found[name] = (device.id, hasher.digest(credential))
    return services.store, hasher, found


def count(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(HeartbeatRow))


def test_many_concurrent_heartbeats_are_all_stored_in_few_transactions(fleet):
    store, _, found = fleet
    sink = HeartbeatSink(store).start()
    gate = threading.Barrier(8)

    def post(n: int):
        gate.wait() if n < 8 else None
        device_id, digest = found["abc"[n % 3]]
        return sink.submit(device_id, Heartbeat(cpu_pct=n % 100), digest)

    with ThreadPoolExecutor(8) as pool:
        futures = list(pool.map(post, range(600)))
    for future in futures:
        assert future.result(timeout=30) is None
    sink.close()
    assert count(store) == 600 and sink.written == 600 and sink.failed == 0
    assert sink.batches < 600  # grouped
    per_device = {d.name: d.heartbeat_count for d in devices.list_devices(store, SYSTEM)}
    assert per_device == {"a": 200, "b": 200, "c": 200}


def test_a_revoked_credential_is_refused_in_the_writing_transaction(fleet):
    store, _, found = fleet
    devices.revoke(store, SYSTEM, "b")
    refused = heartbeats.write_batch(
        store,
        [
            Incoming(found["a"][0], Heartbeat(), utcnow(), found["a"][1]),
            Incoming(found["b"][0], Heartbeat(), utcnow(), found["b"][1]),
            Incoming(found["c"][0], Heartbeat(), utcnow(), "0" * 64),  # rotated meanwhile
        ],
    )
    assert refused == {1, 2} and count(store) == 1
    sink = HeartbeatSink(store).start()
    with pytest.raises(CredentialRevoked):
        sink.submit(found["b"][0], Heartbeat(), found["b"][1]).result(timeout=10)
    sink.close()


def test_one_bad_report_does_not_fail_its_batch(fleet):
    store, _, found = fleet
    sink = HeartbeatSink(store)  # not started: queue first, then write as one batch
    good = [sink.submit(found["a"][0], Heartbeat(cpu_pct=1)) for _ in range(3)]
    bad = sink.submit(987654, Heartbeat(cpu_pct=1))  # no such device: foreign key fails
    sink.start()
    sink.close()
    assert [f.result(timeout=10) for f in good] == [None, None, None]
    assert bad.exception(timeout=10) is not None
    assert count(store) == 3


def test_close_writes_everything_still_queued(fleet):
    store, _, found = fleet
    sink = HeartbeatSink(store)
    futures = [sink.submit(found["c"][0], Heartbeat(temp_c=40)) for _ in range(50)]
    sink.start()
    sink.close()
    assert all(f.done() for f in futures) and count(store) == 50


def test_retention_prunes_old_heartbeats_and_history_reads_in_order(fleet):
    store, _, found = fleet
    now = utcnow()
    device_id = found["a"][0]
    heartbeats.write_batch(
        store,
        [
            Incoming(device_id, Heartbeat(cpu_pct=1), now - timedelta(days=31)),
            Incoming(device_id, Heartbeat(cpu_pct=2), now - timedelta(days=2)),
            Incoming(device_id, Heartbeat(cpu_pct=3, latency_p99_ms=12.5), now),
        ],
    )
    assert heartbeats.prune(store, 30, now) == 1
    history = heartbeats.history(store, SYSTEM, "a")
    assert history["cpu_pct"].tolist() == [2.0, 3.0]
    assert history["latency_p99_ms"].isna().tolist() == [True, False]
    assert str(history["received_at"].dt.tz) == "UTC"
    latest = devices.get_device(store, SYSTEM, "a")
    assert latest.last_status["cpu_pct"] == 3 and latest.heartbeat_count == 3


def test_heartbeats_and_other_writers_do_not_trip_over_each_other(fleet, beacon_home):
    """Another process changing devices meanwhile (the app, a second API worker) is waited
    for, not reported as 'database is locked'."""
    from core.store import open_store

    store, _, found = fleet
    other = open_store(f"sqlite:///{beacon_home / 'beacon.db'}")  # its own engine and connections
    stop = threading.Event()

    def admin_edits() -> int:
        edits = 0
        while not stop.is_set():
            devices.set_tags(other, SYSTEM, "abc"[edits % 3], [f"edit-{edits}"])
            edits += 1
        return edits

    sink = HeartbeatSink(store).start()
    with ThreadPoolExecutor(1) as pool:
        editing = pool.submit(admin_edits)
        futures = [
            sink.submit(found["abc"[n % 3]][0], Heartbeat(cpu_pct=1), found["abc"[n % 3]][1])
            for n in range(300)
        ]
        outcomes = [f.exception(timeout=60) for f in futures]
        stop.set()
        assert editing.result(timeout=60) > 0
    sink.close()
    other.engine.dispose()
    assert outcomes == [None] * 300 and count(store) == 300


def wal_state(store) -> tuple[int, int]:
    """Frames in the WAL, and how many of them are already copied into the database."""
    with store.engine.connect() as connection:
        _, frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return frames, copied


def test_the_writer_never_checkpoints_in_its_commits_the_checkpointer_does(fleet):
    """Copying the WAL into the database inside a heartbeat commit stalls that batch, so
    the writer's connection leaves it to a thread beside it (SQLite only)."""
    from core.store.db import busy_writer

    store, _, found = fleet
    writer = busy_writer(store)
    assert writer is not store
    with writer.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    writer.engine.dispose()

    sink = HeartbeatSink(store, checkpoint_every_seconds=0.05).start()
    device_id, digest = found["a"]
    futures = [sink.submit(device_id, Heartbeat(cpu_pct=n % 100), digest) for n in range(300)]
    assert [f.exception(timeout=30) for f in futures] == [None] * 300
    time.sleep(0.2)
    assert sink.checkpoints > 0
    sink.close()
    assert count(store) == 300
    frames, copied = wal_state(store)
    assert frames > 0 and copied == frames  # all copied: the next writer restarts the WAL


def test_a_store_in_memory_or_on_postgresql_is_its_own_busy_writer():
    from core.store import open_store
    from core.store.db import busy_writer, checkpoint

    memory = open_store("sqlite://")
    assert busy_writer(memory) is memory
    checkpoint(memory)  # nothing to do, and no error

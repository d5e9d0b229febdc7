"""Device heartbeats: what a device reports, how it is stored, and its history.

The API receives many small reports at once (a thousand devices every N seconds), so
writes are group-committed: `HeartbeatSink` collects the reports that arrive while a
transaction is in flight and writes them together in the next one (one INSERT of many
rows plus one UPDATE per device). A request is answered only after its batch has
committed, so an acknowledged heartbeat is never lost when Beacon stops or crashes;
under light load a batch is a single report and nothing waits. On SQLite the writer has
its own connection (core.store.db.busy_writer) that commits without fsync and leaves
WAL checkpoints to a thread beside it: only a power cut could undo the last moments of
heartbeats, which devices send again every few seconds anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.types import JSON

from core.auth.roles import Role, User, require
from core.errors import NotFound, PermissionDenied
from core.fleet.devices import ACTIVE
from core.fleet.health import assess
from core.fleet.models import DeviceRow, HeartbeatRow
from core.store import Store
from core.store.db import busy_writer, checkpoint
from core.store.models import as_utc, utcnow

log = logging.getLogger(__name__)
READINGS = (
    "cpu_pct",
    "mem_pct",
    "temp_c",
    "disk_pct",
    "inference_count",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
)
HISTORY_COLUMNS = ("received_at", *READINGS, "health")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One status report; every reading is optional (devices report what they can)."""

    cpu_pct: float | None = None
    mem_pct: float | None = None
    temp_c: float | None = None
    disk_pct: float | None = None
    inference_count: int | None = None  # inferences since the previous heartbeat
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    models: tuple[tuple[str, str], ...] = ()  # (model, version) installed
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """A heartbeat to store: from which device, when received, and (from the API) the
    hash of the credential it came with, re-checked in the writing transaction."""

    device_id: int
    heartbeat: Heartbeat
    received_at: datetime
    credential_digest: str | None = None


class CredentialRevoked(PermissionDenied):
    """The device's credential was revoked or rotated before its heartbeat was stored."""


def _status(hb: Heartbeat, received_at: datetime) -> tuple[dict, dict]:
    readings = {k: getattr(hb, k) for k in READINGS}
    verdict = assess(readings)
    models = [{"name": n, "version": v} for n, v in hb.models]
    row = {
        "received_at": received_at,
        "sent_at": hb.sent_at,
        **readings,
        "models": models,
        "health": verdict.health,
    }
    status = {
        **{k: v for k, v in readings.items() if v is not None},
        "models": models,
        "health": verdict.health,
        "reasons": list(verdict.reasons),
        "at": received_at.isoformat(),
    }
    return row, status


_DEVICE_UPDATE = (
    update(DeviceRow.__table__)
    .where(DeviceRow.__table__.c.id == bindparam("b_device"))
    .values(
        last_seen_at=bindparam("b_seen"),
        last_status=bindparam("b_status", type_=JSON),
        heartbeat_count=DeviceRow.__table__.c.heartbeat_count + bindparam("b_count"),
    )
)


def _still_valid(session, items: list[Incoming]) -> set[int]:
    """Indexes of items whose device still holds the credential they came with."""
    checked = {i.device_id for i in items if i.credential_digest is not None}
    current: dict[int, str | None] = {}
    if checked:
        rows = session.execute(
            select(DeviceRow.id, DeviceRow.credential_hash, DeviceRow.status).where(
                DeviceRow.id.in_(checked)
            )
        )
        current = {r.id: r.credential_hash for r in rows if r.status == ACTIVE}
    return {
        n
        for n, item in enumerate(items)
        if item.credential_digest is None or current.get(item.device_id) == item.credential_digest
    }


_DEVICES = DeviceRow.__table__
_LOCK_DEVICES = (  # a no-op update: takes the write lock and the devices' row locks
    update(_DEVICES)
    .where(_DEVICES.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(heartbeat_count=_DEVICES.c.heartbeat_count)
)


def write_batch(store: Store, items: list[Incoming]) -> set[int]:
    """Store heartbeats in one transaction; returns the indexes refused (credential gone)."""
    # Core statements on a plain connection: the ORM session's bookkeeping cost more
    # than the writes themselves at a few reports per batch.
    with store.engine.begin() as s:
        # Write first, read second: the no-op update takes SQLite's write lock (waiting
        # out other writers) and PostgreSQL's row locks before the credentials are read,
        # so a revocation committed meanwhile cannot slip between the check and the insert.
        s.execute(_LOCK_DEVICES, {"b_ids": sorted({i.device_id for i in items})})
        valid = _still_valid(s, items)
        rows: list[dict] = []
        latest: dict[int, tuple[datetime, dict, int]] = {}
        for n, item in enumerate(items):
            if n not in valid:
                continue
            row, status = _status(item.heartbeat, item.received_at)
            rows.append({"device_id": item.device_id, **row})
            seen, last, count = latest.get(item.device_id, (item.received_at, status, 0))
            if item.received_at >= seen:
                seen, last = item.received_at, status
            latest[item.device_id] = (seen, last, count + 1)
        if rows:
            s.execute(insert(HeartbeatRow.__table__), rows)
            s.execute(
                _DEVICE_UPDATE,
                [
                    {"b_device": d, "b_seen": seen, "b_status": status, "b_count": n}
                    for d, (seen, status, n) in sorted(latest.items())
                ],
            )
    return set(range(len(items))) - valid


def record(store: Store, device_id: int, heartbeat: Heartbeat) -> None:
    """Store one heartbeat now (outside the API, e.g. in tests and tools)."""
    write_batch(store, [Incoming(device_id, heartbeat, utcnow())])


def prune(store: Store, retention_days: int, now: datetime | None = None) -> int:
    """Delete heartbeats older than the retention; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with store.session() as s:
        result = s.execute(delete(HeartbeatRow).where(HeartbeatRow.received_at < cutoff))
        return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class _Pending:
    incoming: Incoming
    done: Future | None  # for threads
    waiter: asyncio.Future | None  # for event loops (woken once per batch, not per item)


def _settle(results: list[tuple[asyncio.Future, BaseException | None]]) -> None:
    for waiter, error in results:
        if waiter.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)


class HeartbeatSink:
    """Group-commits heartbeats from many request handlers on one writer thread."""

    def __init__(
        self,
        store: Store,
        *,
        retention_days: int = 30,
        max_batch: int = 2000,
        prune_every_seconds: float = 600.0,
        checkpoint_every_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.max_batch = max_batch
        self.prune_every_seconds = prune_every_seconds
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self._clock = clock
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # The writer's own store: on SQLite its commits never stop to checkpoint the WAL;
        # the checkpointer thread does that beside it, so no batch stalls for it.
        self._writes = store
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self.written = 0
        self.batches = 0
        self.failed = 0
        self.checkpoints = 0

    def start(self) -> HeartbeatSink:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._writes = busy_writer(self.store)
                if self._writes is not self.store:
                    self._checkpointer = threading.Thread(
                        target=self._checkpoints, name="heartbeat-checkpoints", daemon=True
                    )
                    self._checkpointer.start()
                self._thread = threading.Thread(
                    target=self._run, name="heartbeat-writer", daemon=True
                )
                self._thread.start()
        return self

    def submit(
        self, device_id: int, heartbeat: Heartbeat, credential_digest: str | None = None
    ) -> Future:
        """Queue a heartbeat; the future completes when it is committed (or refused)."""
        done: Future = Future()
        incoming = Incoming(device_id, heartbeat, self._clock(), credential_digest)
        self._queue.put(_Pending(incoming, done, None))
        return done

    def submit_async(
        self, device_id: int, heartbeat: Heartbeat, credential_digest: str | None = None
    ) -> asyncio.Future:
        """Like `submit`, from a running event loop; await the result."""
        waiter = asyncio.get_running_loop().create_future()
        incoming = Incoming(device_id, heartbeat, self._clock(), credential_digest)
        self._queue.put(_Pending(incoming, None, waiter))
        return waiter

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
        self._stopping.set()
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.join(timeout)
            checkpoint(self.store)
        if self._writes is not self.store:
            self._writes.engine.dispose()
            self._writes = self.store

    def _checkpoints(self) -> None:
        while not self._stopping.wait(self.checkpoint_every_seconds):
            try:
                checkpoint(self.store)
                self.checkpoints += 1
            except Exception:  # housekeeping: the next round tries again
                log.exception("checkpointing the heartbeat store failed")

    def _run(self) -> None:
        last_prune = 0.0
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._finish(batch, self._write(batch))
            if time.monotonic() - last_prune > self.prune_every_seconds:
                last_prune = time.monotonic()
                self._prune()

    def _write(self, batch: list[_Pending]) -> list[BaseException | None]:
        """Each item's outcome: None when stored."""
        try:
            refused = write_batch(self._writes, [p.incoming for p in batch])
        except Exception as exc:
            if len(batch) > 1:  # one bad report (e.g. its device deleted meanwhile) must
                return [self._write([p])[0] for p in batch]  # not fail the others
            log.warning("heartbeat of device %s not stored: %s", batch[0].incoming.device_id, exc)
            return [exc]
        gone = CredentialRevoked("The device credential was revoked or rotated.")
        return [gone if n in refused else None for n in range(len(batch))]

    def _finish(self, batch: list[_Pending], outcomes: list[BaseException | None]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for pending, error in zip(batch, outcomes, strict=True):
            if error is None:
                self.written += 1
            else:
                self.failed += 1
            if pending.done is not None:
                if error is None:
                    pending.done.set_result(None)
                else:
                    pending.done.set_exception(error)
            elif pending.waiter is not None:
                by_loop.setdefault(pending.waiter.get_loop(), []).append((pending.waiter, error))
        self.batches += 1
        for loop, results in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, results)

    def _prune(self) -> None:
        try:
            removed = prune(self.store, self.retention_days, self._clock())
            if removed:
                log.info("pruned %d heartbeats older than %d days", removed, self.retention_days)
        except Exception:  # pruning is housekeeping: never stop the writer for it
            log.exception("pruning heartbeats failed")


def history(
    store: Store, user: User, name: str, *, since: datetime | None = None, limit: int = 10_000
) -> pd.DataFrame:
    """A device's heartbeats, oldest first (columns: HISTORY_COLUMNS)."""
    require(user, Role.ADMIN, "Managing devices")
    with store.session() as s:
        device_id = s.scalar(select(DeviceRow.id).where(DeviceRow.name == name))
        if device_id is None:
            raise NotFound(f"No device named {name!r}.")
        query = (
            select(*(getattr(HeartbeatRow, c) for c in HISTORY_COLUMNS))
            .where(HeartbeatRow.device_id == device_id)
            .order_by(HeartbeatRow.received_at.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(HeartbeatRow.received_at >= since)
        rows = s.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in reversed(rows)], columns=list(HISTORY_COLUMNS))
    frame["received_at"] = pd.to_datetime([as_utc(t) for t in frame["received_at"]], utc=True)
    for column in READINGS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame

"""The fleet at a glance: counts by liveness and health, and the device table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import String, case, distinct, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from core.auth.roles import Role, User, require
from core.fleet.devices import ACTIVE, KINDS, RETIRED, Device
from core.fleet.health import DEGRADED, NEVER, OFFLINE, ONLINE, STALE, UNHEALTHY, liveness
from core.fleet.models import HeartbeatRow
from core.store import Store

TABLE_COLUMNS = (
    "name",
    "kind",
    "status",
    "liveness",
    "health",
    "reasons",
    "site",
    "tags",
    "arch",
    "os",
    "lat",
    "lon",
    "last_seen_at",
    "last_seen_min",
    "cpu_pct",
    "mem_pct",
    "temp_c",
    "disk_pct",
    "latency_p99_ms",
    "models",
    "heartbeats",
)


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """Counts for the summary cards (retired devices are left out)."""

    devices: int
    active: int
    online: int
    stale: int
    offline: int
    never_seen: int
    unhealthy: int
    degraded: int
    by_kind: dict[str, int]


def summarise(devices: Iterable[Device], now: datetime, interval: int) -> FleetSummary:
    """Counts of devices in service by liveness, health and kind."""
    current = [d for d in devices if d.status != RETIRED]
    live = Counter(liveness(d.last_seen_at, now, interval) for d in current if d.status == ACTIVE)
    health = Counter(d.health for d in current if d.status == ACTIVE)
    return FleetSummary(
        devices=len(current),
        active=sum(d.status == ACTIVE for d in current),
        online=live[ONLINE],
        stale=live[STALE],
        offline=live[OFFLINE],
        never_seen=live[NEVER],
        unhealthy=health[UNHEALTHY],
        degraded=health[DEGRADED],
        by_kind={k: n for k in KINDS if (n := sum(d.kind == k for d in current))},
    )


def device_status(device: Device, now: datetime, interval: int) -> str:
    """Liveness of an active device; the lifecycle state of the others."""
    if device.status != ACTIVE:
        return device.status
    return liveness(device.last_seen_at, now, interval)


def device_table(devices: Sequence[Device], now: datetime, interval: int) -> pd.DataFrame:
    """One row per device with its latest readings (columns: TABLE_COLUMNS)."""
    rows = []
    for d in devices:
        status = d.last_status
        seen = d.last_seen_at
        rows.append(
            {
                "name": d.name,
                "kind": d.kind,
                "status": d.status,
                "liveness": device_status(d, now, interval),
                "health": d.health if d.status == ACTIVE else "",
                "reasons": "; ".join(status.get("reasons", [])),
                "site": d.site,
                "tags": ", ".join(d.tags),
                "arch": d.arch,
                "os": d.os,
                "lat": d.lat,
                "lon": d.lon,
                "last_seen_at": seen,
                "last_seen_min": None if seen is None else (now - seen).total_seconds() / 60,
                "cpu_pct": status.get("cpu_pct"),
                "mem_pct": status.get("mem_pct"),
                "temp_c": status.get("temp_c"),
                "disk_pct": status.get("disk_pct"),
                "latency_p99_ms": status.get("latency_p99_ms"),
                "models": ", ".join(
                    f"{m['name']} {m['version']}" for m in status.get("models", [])
                ),
                "heartbeats": d.heartbeat_count,
            }
        )
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    for column in ("lat", "lon", "last_seen_min", "cpu_pct", "mem_pct", "temp_c", "disk_pct"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["latency_p99_ms"] = pd.to_numeric(frame["latency_p99_ms"], errors="coerce")
    frame["last_seen_at"] = pd.to_datetime(frame["last_seen_at"], utc=True)
    return frame


def filter_table(
    frame: pd.DataFrame,
    *,
    kinds: Sequence[str] = (),
    liveness_in: Sequence[str] = (),
    health_in: Sequence[str] = (),
    tag: str = "",
    text: str = "",
) -> pd.DataFrame:
    """Rows matching every given filter (an empty filter matches all)."""
    keep = pd.Series(True, index=frame.index)
    if kinds:
        keep &= frame["kind"].isin(kinds)
    if liveness_in:
        keep &= frame["liveness"].isin(liveness_in)
    if health_in:
        keep &= frame["health"].isin(health_in)
    if tag.strip():
        wanted = tag.strip().lower()
        keep &= frame["tags"].map(lambda t: wanted in [x.strip() for x in t.split(",")])
    if text.strip():
        needle = text.strip().lower()
        keep &= (frame["name"] + " " + frame["site"]).str.lower().str.contains(needle, regex=False)
    return frame[keep].reset_index(drop=True)


class hour_bucket(FunctionElement):
    """The UTC hour of a timestamp as 'YYYY-MM-DD HH' text, on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(hour_bucket)
def _hour_default(element, compiler, **kw):  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"


@compiles(hour_bucket, "postgresql")
def _hour_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


ACTIVITY_COLUMNS = ("hour", "devices", "heartbeats", "unhealthy_devices")


def activity(store: Store, user: User, now: datetime, hours: int = 24) -> pd.DataFrame:
    """Per UTC hour of the last `hours`: devices reporting, heartbeats, devices unhealthy.

    Every hour is present (zero when nothing was heard), oldest first.
    """
    require(user, Role.ADMIN, "Managing devices")
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    bucket = hour_bucket(HeartbeatRow.received_at)
    unhealthy = case((HeartbeatRow.health == UNHEALTHY, HeartbeatRow.device_id))
    query = (
        select(
            bucket.label("hour"),
            func.count(distinct(HeartbeatRow.device_id)),
            func.count(),
            func.count(distinct(unhealthy)),
        )
        .where(HeartbeatRow.received_at >= start)
        .group_by(bucket)
    )
    with store.session() as s:
        found = {row[0]: row[1:] for row in s.execute(query)}
    hours_index = [start + timedelta(hours=h) for h in range(hours)]
    rows = [(h, *found.get(f"{h:%Y-%m-%d %H}", (0, 0, 0))) for h in hours_index]
    frame = pd.DataFrame(rows, columns=list(ACTIVITY_COLUMNS))
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    return frame


def online_at(store: Store, user: User, moment: datetime, interval: int) -> int:
    """Devices that were online at `moment`: heard from within 3 intervals before it."""
    require(user, Role.ADMIN, "Managing devices")
    since = moment - timedelta(seconds=3 * interval)
    query = select(func.count(distinct(HeartbeatRow.device_id))).where(
        HeartbeatRow.received_at > since, HeartbeatRow.received_at <= moment
    )
    with store.session() as s:
        return int(s.scalar(query) or 0)

"""When cron and interval triggers fire: pure functions over UTC instants.

Cron expressions are evaluated in the trigger's time zone with cronsim, which follows
Debian cron on DST changes: a job at a fixed local time runs once on the autumn change
(not in both 01:30s) and, on the spring change, at the first valid minute after the
skipped hour (not lost). Expressions with a wildcard hour (hourly, every 15 minutes)
follow real time, so they run in both autumn hours. The engine also de-duplicates every
scheduled run by (workflow, trigger, scheduled time), so no time fires twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from cronsim import CronSim

from core.workflows.definition import cron_expression


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def next_cron(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first time strictly after `after` that the cron expression names (UTC)."""
    zone = _zone(timezone)
    start = _floor_second(after).astimezone(zone)
    try:
        for candidate in CronSim(cron_expression(expression), start):
            moment = candidate.astimezone(UTC)
            if moment > after:
                return moment
    except StopIteration:  # no match within 50 years
        return None
    return None


def cron_times(
    expression: str, timezone: str, after: datetime, until: datetime, limit: int
) -> list[datetime]:
    """The latest `limit` cron times in (after, until], oldest first (UTC).

    Walks backwards from `until`, so a long outage costs `limit` steps, not one per
    missed minute.
    """
    zone = _zone(timezone)
    start = (_floor_second(until) + timedelta(seconds=1)).astimezone(zone)
    found: list[datetime] = []
    try:
        for candidate in CronSim(cron_expression(expression), start, reverse=True):
            moment = candidate.astimezone(UTC)
            if moment > until:
                continue
            if moment <= after or len(found) >= limit:
                break
            if moment not in found:
                found.append(moment)
    except StopIteration:
        pass
    return sorted(found)


def next_interval(anchor: datetime, every_seconds: int, after: datetime) -> datetime:
    """The first time anchor + k * every strictly after `after`."""
    if after < anchor:
        return anchor
    periods = int((after - anchor).total_seconds() // every_seconds) + 1
    return anchor + timedelta(seconds=periods * every_seconds)


def interval_times(
    anchor: datetime, every_seconds: int, after: datetime, until: datetime, limit: int
) -> list[datetime]:
    """The latest `limit` times anchor + k * every in (after, until], oldest first."""
    if until < anchor:
        return []
    last = int((until - anchor).total_seconds() // every_seconds)
    found: list[datetime] = []
    for k in range(last, -1, -1):
        moment = anchor + timedelta(seconds=k * every_seconds)
        if moment <= after or len(found) >= limit:
            break
        found.append(moment)
    return sorted(found)

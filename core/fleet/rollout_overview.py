"""Tables and counts the Rollouts page shows, computed from core values (no UI here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.fleet.device_models import ModelState
from core.fleet.rollouts import DEVICE_STATES, Rollout
from core.fleet.routing import RoutingSummary

ROLLOUT_COLUMNS = (
    "id",
    "model",
    "version",
    "strategy",
    "state",
    "wave",
    "devices",
    "active",
    "failed",
    "message",
    "created by",
    "created",
)
DEVICE_COLUMNS = ("device", "wave", "state", "previous version", "detail", "updated")


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """The page's metric cards."""

    running: int
    succeeded: int
    rolled_back: int  # rolled back or failed
    serving: int  # devices reporting a model active


def summarise(found: Sequence[Rollout], states: Sequence[ModelState]) -> RolloutSummary:
    """Counts over every rollout and device report."""
    by_state = pd.Series([r.state for r in found], dtype="object").value_counts()
    return RolloutSummary(
        running=int(by_state.get("running", 0) + by_state.get("paused", 0)),
        succeeded=int(by_state.get("succeeded", 0)),
        rolled_back=int(by_state.get("rolled_back", 0) + by_state.get("failed", 0)),
        serving=len({s.device for s in states if s.state == "active"}),
    )


def rollout_table(found: Sequence[Rollout]) -> pd.DataFrame:
    """One row per rollout, newest first (columns: ROLLOUT_COLUMNS)."""
    rows = [
        (
            r.id,
            r.model_name,
            r.model_version,
            r.plan.strategy,
            r.state,
            f"{r.wave + 1} of {r.waves}",
            len(r.devices),
            r.counts()["active"],
            r.counts()["failed"],
            r.message,
            r.created_by,
            r.created_at,
        )
        for r in found
    ]
    return pd.DataFrame(rows, columns=list(ROLLOUT_COLUMNS))


def device_table(rollout: Rollout) -> pd.DataFrame:
    """One row per device of a rollout (columns: DEVICE_COLUMNS); waves count from 1."""
    rows = [
        (d.device, d.wave + 1, d.state, d.previous_version, d.detail, d.updated_at)
        for d in rollout.devices
    ]
    frame = pd.DataFrame(rows, columns=list(DEVICE_COLUMNS))
    frame["previous version"] = frame["previous version"].astype("Int64")
    return frame


def wave_progress(rollout: Rollout) -> pd.DataFrame:
    """Devices per wave and state (columns: wave, state, devices), every state listed."""
    counts = Counter((d.wave + 1, d.state) for d in rollout.devices)
    rows = [
        (wave, state, counts.get((wave, state), 0))
        for wave in range(1, rollout.waves + 1)
        for state in DEVICE_STATES
    ]
    return pd.DataFrame(rows, columns=["wave", "state", "devices"])


def distribution_table(summary: RoutingSummary) -> pd.DataFrame:
    """Requests per device and their share (columns: device, requests, share)."""
    total = sum(summary.by_device.values())
    rows = [(d, n, n / total if total else 0.0) for d, n in summary.by_device.items()]
    return pd.DataFrame(rows, columns=["device", "requests", "share"])


def model_state_table(states: Sequence[ModelState]) -> pd.DataFrame:
    """Each device's latest report per model."""
    rows = [
        (
            s.device,
            s.model,
            s.version,
            s.state,
            s.requests,
            s.errors,
            s.p95_ms,
            s.endpoint,
            s.detail,
            s.reported_at,
        )
        for s in states
    ]
    columns = [
        "device",
        "model",
        "version",
        "state",
        "requests",
        "errors",
        "p95 ms",
        "endpoint",
        "detail",
        "reported",
    ]
    return pd.DataFrame(rows, columns=columns)

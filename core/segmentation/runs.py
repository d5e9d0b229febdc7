"""Saved segmentation runs: the settings and summary of a run, kept in the store.

A run stores what is needed to read it later and to reproduce it (dataset version,
as-of date, settings, seed); per-customer rows are recomputed on demand from the
immutable dataset version, so a saved run costs a few kilobytes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.data.catalog import Dataset
from core.errors import NotFound, UserInputError
from core.segmentation.models import SegmentationRunRow
from core.segmentation.pipeline import SegmentationResult, SegmentationSettings
from core.store import Store
from core.store.models import DatasetRow, as_utc


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A saved run as listed on the page."""

    id: int
    name: str
    dataset: str
    dataset_version: int
    as_of: date
    k: int
    silhouette: float | None
    stability: float | None
    params: dict[str, Any]
    summary: dict[str, Any]
    created_by: str
    created_at: datetime


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _records(frame) -> list[dict[str, Any]]:
    return [
        {k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def settings_dict(settings: SegmentationSettings) -> dict[str, Any]:
    """The settings as plain JSON-ready values."""
    values = asdict(settings)
    orders = values.pop("orders")
    orders.pop("today", None)
    orders["as_of"] = orders["as_of"].isoformat() if orders["as_of"] else None
    values["orders"] = orders
    values["extras"] = list(settings.extras)
    values["horizon"] = settings.horizon
    return values


def summary_dict(result: SegmentationResult) -> dict[str, Any]:
    """Segment table, cluster profiles and CLV parameters of a run, JSON-ready."""
    summary: dict[str, Any] = {
        "customers": len(result.table.customers),
        "segments": _records(result.rfm.summary.drop(columns=["action"])),
        "notes": list(result.notes),
    }
    if result.clusters is not None:
        summary["clusters"] = _records(result.clusters.profiles)
        summary["k_scan"] = _records(result.clusters.scan.table)
    if result.clv is not None:
        summary["clv"] = {
            "time_unit": result.clv.time_unit,
            "horizon": result.clv.horizon,
            "params": result.clv.params(),
            "total": _finite(float(result.clv.customers["clv"].sum())),
        }
    return summary


def save_run(
    store: Store,
    user: User,
    dataset: Dataset,
    settings: SegmentationSettings,
    result: SegmentationResult,
    name: str,
) -> SavedRun:
    """Keep a run's settings and summary under a name."""
    require(user, Role.ANALYST, "Saving segmentation runs")
    name = name.strip()
    if not name or len(name) > 100:
        raise UserInputError("Give the run a name of 1-100 characters.")
    if result.clusters is None:
        raise UserInputError("Only a run with clusters can be saved.")
    with store.session() as s:
        row = SegmentationRunRow(
            dataset_id=dataset.id,
            dataset_version=dataset.version,
            name=name,
            as_of=result.table.as_of,
            k=result.clusters.k,
            silhouette=_finite(result.clusters.silhouette),
            stability=_finite(result.clusters.stability.score)
            if result.clusters.stability
            else None,
            params=settings_dict(settings) | {"rules": [r.name for r in result.rfm.rules]},
            summary=summary_dict(result),
            created_by=user.email,
        )
        s.add(row)
        s.flush()
        audit.record(s, user, "segments.save_run", dataset.name, run=row.id, name=name, k=row.k)
        run_id = row.id
    return get_run(store, user, run_id)


def _saved(row: SegmentationRunRow, dataset_name: str) -> SavedRun:
    return SavedRun(
        id=row.id,
        name=row.name,
        dataset=dataset_name,
        dataset_version=row.dataset_version,
        as_of=row.as_of,
        k=row.k,
        silhouette=row.silhouette,
        stability=row.stability,
        params=dict(row.params),
        summary=dict(row.summary),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


def get_run(store: Store, user: User, run_id: int) -> SavedRun:
    """One saved run."""
    require(user, Role.VIEWER, "Reading segmentation runs")
    with store.session() as s:
        found = s.execute(
            select(SegmentationRunRow, DatasetRow.name)
            .join(DatasetRow, DatasetRow.id == SegmentationRunRow.dataset_id)
            .where(SegmentationRunRow.id == run_id)
        ).first()
        if found is None:
            raise NotFound(f"There is no saved segmentation run {run_id}.")
        return _saved(found[0], found[1])


def list_runs(store: Store, user: User, dataset: str | None = None) -> list[SavedRun]:
    """Saved runs, newest first (optionally of one dataset)."""
    require(user, Role.VIEWER, "Reading segmentation runs")
    query = (
        select(SegmentationRunRow, DatasetRow.name)
        .join(DatasetRow, DatasetRow.id == SegmentationRunRow.dataset_id)
        .order_by(SegmentationRunRow.created_at.desc(), SegmentationRunRow.id.desc())
    )
    if dataset is not None:
        query = query.where(DatasetRow.name == dataset)
    with store.session() as s:
        return [_saved(row, name) for row, name in s.execute(query)]


def delete_run(store: Store, user: User, run_id: int) -> None:
    """Remove a saved run."""
    require(user, Role.ANALYST, "Deleting segmentation runs")
    with store.session() as s:
        row = s.get(SegmentationRunRow, run_id)
        if row is None:
            raise NotFound(f"There is no saved segmentation run {run_id}.")
        s.delete(row)
        audit.record(s, user, "segments.delete_run", str(run_id), name=row.name)


def runs_frame(saved: list[SavedRun]) -> pd.DataFrame:
    """Saved runs as a table (id, name, version, as_of, k, silhouette, stability, by, at)."""
    return pd.DataFrame(
        {
            "id": [r.id for r in saved],
            "name": [r.name for r in saved],
            "version": [r.dataset_version for r in saved],
            "as_of": [r.as_of for r in saved],
            "k": [r.k for r in saved],
            "silhouette": [r.silhouette for r in saved],
            "stability": [r.stability for r in saved],
            "by": [r.created_by for r in saved],
            "at": [r.created_at for r in saved],
        }
    )

"""Saved forecast runs: store a batch once, reuse it from pages, supply chain and workflows.

Every function takes the acting user: reading needs the viewer role, saving and
deleting the analyst role; changes write an audit entry in the same transaction.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.forecasting.models import ForecastPointRow, ForecastRunRow, ForecastSeriesRow
from core.forecasting.results import FORECAST_COLUMNS, ForecastBatch
from core.store import Store
from core.store.models import as_utc

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A saved run as listed: what, from where, by whom."""

    id: int
    name: str
    dataset: str | None
    dataset_version: int | None
    freq: str
    horizon: int
    series_count: int
    created_by: str
    created_at: datetime
    summary: dict[str, Any]
    source: dict[str, Any]  # the columns it was made from (date_col, value_col, id_col)


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A saved run in full.

    `forecasts`: id, ds, yhat, lo80, hi80, lo95, hi95, model.
    `series`: id, model, model_label, members, mase, smape, owa, coverage80,
    coverage95, why, notes.
    """

    info: RunSummary
    source: dict[str, Any]
    settings: dict[str, Any]
    series: pd.DataFrame
    forecasts: pd.DataFrame


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _summary(row: ForecastRunRow) -> RunSummary:
    return RunSummary(
        id=row.id,
        name=row.name,
        dataset=row.dataset,
        dataset_version=row.dataset_version,
        freq=row.freq,
        horizon=row.horizon,
        series_count=row.series_count,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        summary=dict(row.summary or {}),
        source=dict(row.source or {}),
    )


def save_run(
    store: Store,
    user: User,
    batch: ForecastBatch,
    *,
    name: str,
    dataset: str | None = None,
    dataset_version: int | None = None,
    source: dict[str, Any] | None = None,
) -> RunSummary:
    """Store a batch's forecasts, choices and backtest scores; returns the saved run."""
    require(user, Role.ANALYST, "Saving forecast runs")
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise UserInputError(f"Name the forecast run (1-{MAX_NAME} characters).")
    chosen = Counter(s.model_label for s in batch.series)
    summary = {
        "chosen": dict(chosen.most_common()),
        "skipped": [{"id": s.id, "reason": s.reason} for s in batch.skipped],
        "notes": list(batch.notes),
    }
    with store.session() as s:
        run = ForecastRunRow(
            name=name,
            dataset=dataset,
            dataset_version=dataset_version,
            source=source or {},
            settings=batch.settings.as_dict(),
            freq=batch.freq,
            horizon=batch.settings.horizon,
            series_count=len(batch.series),
            summary=summary,
            seconds=float(batch.seconds),
            created_by=user.email,
        )
        s.add(run)
        s.flush()
        series_rows, point_rows = [], []
        for result in batch.series:
            chosen_row = result.leaderboard[result.leaderboard["chosen"]]
            scores = chosen_row.iloc[0] if len(chosen_row) else None
            series_rows.append(
                {
                    "run_id": run.id,
                    "series_id": result.id[:500],
                    "model": result.model,
                    "model_label": result.model_label,
                    "members": list(result.members),
                    "mase": _finite(scores["mase"]) if scores is not None else None,
                    "smape": _finite(scores["smape"]) if scores is not None else None,
                    "owa": _finite(scores["owa"]) if scores is not None else None,
                    "coverage80": _finite(result.coverage.get(80)),
                    "coverage95": _finite(result.coverage.get(95)),
                    "why": result.why,
                    "notes": list(result.notes),
                }
            )
            for row in result.forecast.itertuples():
                point_rows.append(
                    {"run_id": run.id, "series_id": result.id[:500], "ds": row.ds.date()}
                    | {c: float(getattr(row, c)) for c in FORECAST_COLUMNS[1:]}
                )
        if series_rows:
            s.execute(insert(ForecastSeriesRow), series_rows)
        if point_rows:
            s.execute(insert(ForecastPointRow), point_rows)
        audit.record(
            s,
            user,
            "forecast.save",
            name,
            run_id=run.id,
            dataset=dataset,
            series=len(series_rows),
            horizon=batch.settings.horizon,
        )
        s.flush()
        return _summary(run)


def list_runs(store: Store, user: User, *, dataset: str | None = None) -> list[RunSummary]:
    """Saved runs, newest first (optionally only those of one dataset)."""
    require(user, Role.VIEWER, "Reading forecast runs")
    query = select(ForecastRunRow).order_by(
        ForecastRunRow.created_at.desc(), ForecastRunRow.id.desc()
    )
    if dataset is not None:
        query = query.where(ForecastRunRow.dataset == dataset)
    with store.session() as s:
        return [_summary(r) for r in s.scalars(query)]


def get_run(store: Store, user: User, run_id: int) -> SavedRun:
    """One saved run with its series table and forecasts."""
    require(user, Role.VIEWER, "Reading forecast runs")
    with store.session() as s:
        run = s.get(ForecastRunRow, run_id)
        if run is None:
            raise NotFound(f"No saved forecast run {run_id}.")
        series = s.scalars(
            select(ForecastSeriesRow)
            .where(ForecastSeriesRow.run_id == run_id)
            .order_by(ForecastSeriesRow.series_id)
        ).all()
        points = s.scalars(
            select(ForecastPointRow)
            .where(ForecastPointRow.run_id == run_id)
            .order_by(ForecastPointRow.series_id, ForecastPointRow.ds)
        ).all()
        models = {r.series_id: r.model for r in series}
        series_frame = pd.DataFrame(
            [
                {
                    "id": r.series_id,
                    "model": r.model,
                    "model_label": r.model_label,
                    "members": ", ".join(r.members or []),
                    "mase": r.mase,
                    "smape": r.smape,
                    "owa": r.owa,
                    "coverage80": r.coverage80,
                    "coverage95": r.coverage95,
                    "why": r.why,
                    "notes": " ".join(r.notes or []),
                }
                for r in series
            ],
            columns=[
                "id",
                "model",
                "model_label",
                "members",
                "mase",
                "smape",
                "owa",
                "coverage80",
                "coverage95",
                "why",
                "notes",
            ],
        )
        forecasts = pd.DataFrame(
            [
                {"id": p.series_id, "ds": pd.Timestamp(p.ds)}
                | {c: getattr(p, c) for c in FORECAST_COLUMNS[1:]}
                | {"model": models.get(p.series_id, "")}
                for p in points
            ],
            columns=["id", *FORECAST_COLUMNS, "model"],
        )
        return SavedRun(
            _summary(run), dict(run.source or {}), dict(run.settings or {}), series_frame, forecasts
        )


def latest_run(store: Store, user: User, dataset: str) -> SavedRun | None:
    """The newest saved run of a dataset (supply chain's entry point), or None."""
    runs = list_runs(store, user, dataset=dataset)
    return get_run(store, user, runs[0].id) if runs else None


def delete_run(store: Store, user: User, run_id: int) -> None:
    """Remove a saved run and everything in it."""
    require(user, Role.ANALYST, "Deleting forecast runs")
    with store.session() as s:
        run = s.get(ForecastRunRow, run_id)
        if run is None:
            raise NotFound(f"No saved forecast run {run_id}.")
        name = run.name
        # Explicit deletes: SQLite only cascades with foreign keys on, and they may be off.
        s.execute(delete(ForecastPointRow).where(ForecastPointRow.run_id == run_id))
        s.execute(delete(ForecastSeriesRow).where(ForecastSeriesRow.run_id == run_id))
        s.delete(run)
        audit.record(s, user, "forecast.delete", name, run_id=run_id)

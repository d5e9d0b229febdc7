"""Saved forecast runs in the store (SQLite, and PostgreSQL when available), with roles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import audit
from core.auth.roles import Role, User
from core.errors import NotFound, PermissionDenied, UserInputError
from core.forecasting import forecast_many, runs
from core.store import open_store

SYSTEM = User.system()


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(9)
    dates = pd.date_range(end="2024-12-01", periods=36, freq="MS")
    frame = pd.concat(
        pd.DataFrame({"sku": sku, "date": dates, "qty": 40 + 10 * k + rng.normal(0, 2, 36)})
        for k, sku in enumerate(["A", "B"])
    )
    return forecast_many(
        frame, "sku", "date", "qty", 4, folds=2, n_jobs=1, models=("theta", "seasonal_naive")
    )


def check_round_trip(store, batch, analyst: User, viewer: User) -> None:
    saved = runs.save_run(
        store,
        analyst,
        batch,
        name=" Plan Q1 ",
        dataset="orders",
        dataset_version=3,
        source={"date_col": "date", "value_col": "qty", "id_col": "sku"},
    )
    assert (saved.name, saved.series_count, saved.horizon, saved.freq) == (
        "Plan Q1",
        2,
        4,
        "monthly",
    )
    listed = runs.list_runs(store, viewer, dataset="orders")
    assert [r.id for r in listed] == [saved.id] and runs.list_runs(store, viewer, dataset="x") == []
    record = runs.get_run(store, viewer, saved.id)
    assert record.source["id_col"] == "sku" and record.settings["horizon"] == 4
    assert record.series["id"].tolist() == ["A", "B"]
    expected = batch.forecasts()
    got = record.forecasts
    assert len(got) == 8 and got["ds"].iloc[0] == pd.Timestamp("2025-01-01")
    assert got["yhat"].to_numpy() == pytest.approx(expected["yhat"].to_numpy())
    assert got["hi95"].to_numpy() == pytest.approx(expected["hi95"].to_numpy())
    assert runs.latest_run(store, viewer, "orders").info.id == saved.id
    with pytest.raises(PermissionDenied):
        runs.delete_run(store, viewer, saved.id)
    runs.delete_run(store, analyst, saved.id)
    with pytest.raises(NotFound, match=f"No saved forecast run {saved.id}"):
        runs.get_run(store, viewer, saved.id)
    actions = [
        e.action for e in audit.list_events(store, SYSTEM) if e.action.startswith("forecast")
    ]
    assert actions == ["forecast.delete", "forecast.save"]


def test_runs_round_trip_on_sqlite_with_roles(services, make_user, batch):
    analyst, viewer = make_user(Role.ANALYST), make_user(Role.VIEWER)
    with pytest.raises(PermissionDenied, match="needs the analyst role"):
        runs.save_run(services.store, viewer, batch, name="nope")
    with pytest.raises(UserInputError, match="Name the forecast run"):
        runs.save_run(services.store, analyst, batch, name="   ")
    check_round_trip(services.store, batch, analyst, viewer)


@pytest.mark.postgres
def test_runs_round_trip_on_postgresql(postgres_url, batch):
    store = open_store(postgres_url)
    try:
        viewer = User(id=2, email="v@example.com", role=Role.VIEWER)
        check_round_trip(store, batch, SYSTEM, viewer)
    finally:
        store.engine.dispose()

"""The forecast step forecasts a dataset through core.forecasting and can save the run."""

from __future__ import annotations

import pytest

from core.auth.roles import User
from core.errors import NotFound, UserInputError
from core.forecasting import runs
from core.workflows.tasks.base import StepContext, task_type

SYSTEM = User.system()


def run(services, **params):
    ctx = StepContext(
        services=services, user=SYSTEM, workflow="w", run_id=1, step_id="s", attempt=1
    )
    task = task_type("forecast")
    return task.run(ctx, task.params.model_validate(params))


@pytest.fixture
def monthly(services, write_file):
    # Two SKUs, 36 months; B is always 10 more than A.
    lines = ["month,sku,quantity"]
    for i in range(36):
        year, month = 2022 + i // 12, i % 12 + 1
        base = 100 + 2 * i + (15 if month in (11, 12) else 0)
        lines += [f"{year}-{month:02d}-01,A,{base}", f"{year}-{month:02d}-01,B,{base + 10}"]
    services.catalog.ingest_file(SYSTEM, write_file("demand.csv", "\n".join(lines) + "\n"))


def test_forecast_step_forecasts_each_series_and_saves_the_run(services, monthly):
    out = run(services, dataset="demand", horizon=3, id_col="sku", save_as="nightly")
    assert (out["series_count"], out["skipped"]) == (2, [])
    by_id = {s["id"]: s for s in out["series"]}
    assert set(by_id) == {"A", "B"}
    assert [f["ds"] for f in by_id["A"]["forecast"]] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    for f in by_id["A"]["forecast"]:
        assert f["lo95"] <= f["yhat"] <= f["hi95"]
        assert 150 < f["yhat"] < 220  # the trend continues from ~170-190
    saved = runs.list_runs(services.store, SYSTEM)
    assert [r.id for r in saved] == [out["run_id"]]


def test_forecast_step_bad_input(services, monthly):
    with pytest.raises(UserInputError, match="no column"):
        run(services, dataset="demand", horizon=3, id_col="store")
    with pytest.raises(NotFound):
        run(services, dataset="missing", horizon=3)

"""Demand from the full model zoo and from saved forecast runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.auth.roles import Role
from core.errors import UserInputError
from core.forecasting import runs
from core.forecasting.batch import forecast_many
from core.supply_chain.demand import MAX_FULL_SKUS, Z95, find_saved_run, forecast_demand


def _weekly_orders(weeks: int = 104) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2024-01-01")  # a Monday
    frames = []
    for sku, level in (("A", 50.0), ("B", 20.0), ("C", 5.0)):
        dates = start + pd.to_timedelta(7 * np.arange(weeks), unit="D")
        quantity = np.maximum(np.round(rng.normal(level, level / 5, weeks)), 0)
        frames.append(pd.DataFrame({"sku": sku, "date": dates, "quantity": quantity}))
    return pd.concat(frames, ignore_index=True)


def test_full_mode_uses_the_model_zoo_and_its_backtest_errors() -> None:
    orders = _weekly_orders()
    demand = forecast_demand(orders, mode="full", skus=["A", "B"], horizon=4, n_jobs=1)
    table = demand.table.set_index("sku")
    assert list(table.index) == ["A", "B"]
    assert set(table["source"]) == {"full"}
    batch = forecast_many(  # the same run the full mode makes
        orders[orders["sku"].isin(["A", "B"])], "sku", "date", "quantity", 4, freq="weekly",
        n_jobs=1,
    )  # fmt: skip
    series = batch.get("A")
    chosen = series.backtest[series.backtest["candidate"] == series.model]
    rmse = float(np.sqrt(np.mean((chosen["actual"] - chosen["yhat"]) ** 2)))
    assert table.loc["A", "model"] == series.model
    assert table.loc["A", "demand_std"] == pytest.approx(rmse)
    assert table.loc["A", "demand_mean"] == pytest.approx(series.forecast["yhat"].clip(0).mean())


def test_full_mode_refuses_too_many_skus() -> None:
    many = pd.DataFrame(
        {"sku": [f"S{i}" for i in range(MAX_FULL_SKUS + 1)], "date": "2025-01-06", "quantity": 1}
    )
    with pytest.raises(UserInputError, match="at most"):
        forecast_demand(many, mode="full")


def test_saved_run_supplies_demand_and_the_rest_is_fast(services, make_user) -> None:
    analyst = make_user(Role.ANALYST)
    orders = _weekly_orders()
    batch = forecast_many(
        orders[orders["sku"].isin(["A", "B"])],
        "sku",
        "date",
        "quantity",
        6,
        freq="weekly",
        models=("seasonal_naive", "naive"),
        folds=1,
        n_jobs=1,
    )
    runs.save_run(
        services.store,
        analyst,
        batch,
        name="weekly demand",
        dataset="orders",
        dataset_version=1,
        source={"date_col": "date", "value_col": "quantity", "id_col": "sku"},
    )
    found = find_saved_run(services.store, analyst, "orders", "sku")  # a summary: cheap
    assert found is not None
    saved = runs.get_run(services.store, analyst, found.id)
    assert find_saved_run(services.store, analyst, "orders", "product") is None
    demand = forecast_demand(orders, horizon=4, saved_run=saved)
    table = demand.table.set_index("sku")
    first = saved.forecasts[saved.forecasts["id"] == "A"].sort_values("ds")
    assert table.loc["A", "source"] == f"saved run {saved.info.id}"
    assert table.loc["A", "demand_mean"] == pytest.approx(first["yhat"].head(4).clip(0).mean())
    width = first["hi95"].iloc[0] - first["lo95"].iloc[0]
    assert table.loc["A", "demand_std"] == pytest.approx(width / (2 * Z95))
    assert table.loc["C", "source"] == "fast"
    assert demand.mode == "saved"
    assert any("fast model set" in note for note in demand.notes)


def test_a_saved_run_at_another_frequency_is_not_used(services, make_user) -> None:
    analyst = make_user(Role.ANALYST)
    orders = _weekly_orders()
    batch = forecast_many(
        orders[orders["sku"] == "A"], "sku", "date", "quantity", 3,
        freq="monthly", models=("naive",), folds=1, n_jobs=1,
    )  # fmt: skip
    runs.save_run(services.store, analyst, batch, name="monthly", dataset="orders",
                  source={"id_col": "sku"})  # fmt: skip
    assert find_saved_run(services.store, analyst, "orders", "sku") is None  # weekly wanted
    (summary,) = runs.list_runs(services.store, analyst, dataset="orders")
    monthly = runs.get_run(services.store, analyst, summary.id)
    demand = forecast_demand(orders, saved_run=monthly)  # given anyway: refused with a note
    assert set(demand.table["source"]) == {"fast"}
    assert any("monthly, not weekly" in note for note in demand.notes)

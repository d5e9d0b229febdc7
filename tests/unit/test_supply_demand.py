"""Fast demand models on crafted series, model choice, and demand per SKU from orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import UserInputError
from core.forecasting.forecasters.intermittent import croston_path, tsb_path
from core.supply_chain import fast_models as fm
from core.supply_chain.demand import demand_matrix, forecast_demand, resolve_freq


def test_ses_of_a_constant_series_is_the_constant() -> None:
    Y = np.full((2, 30), 7.0)
    Y[1, :10] = np.nan  # a SKU that started later
    assert fm.ses(Y, 4, 52) == pytest.approx(np.full((2, 4), 7.0))


def test_holt_extrapolates_a_linear_trend() -> None:
    t = np.arange(60, dtype=float)
    Y = np.vstack([10 + 2 * t, 500 - 3 * t])
    expected = np.vstack([10 + 2 * np.arange(60, 63), 500 - 3 * np.arange(60, 63)])
    assert fm.holt(Y, 3, 52) == pytest.approx(expected)


def test_croston_hand_example() -> None:
    y = np.array([0, 0, 3, 0, 5, 0, 0, 2], dtype=float)
    # First demand at t=2: z=3, p=3. t=4: z=3.2, p=2.9. t=7: z=3.08, p=2.91.
    z, p = fm.croston_state(y[None, :])
    assert (z[0], p[0]) == pytest.approx((3.08, 2.91))
    assert fm.croston(y[None, :], 2, 1) == pytest.approx(np.full((1, 2), 3.08 / 2.91))
    _, z_ref, p_ref = croston_path(y, 0.1)  # the forecasting package's own version
    assert (z[0], p[0]) == pytest.approx((z_ref, p_ref))


def test_tsb_matches_the_reference_recursion() -> None:
    y = np.array([0, 4, 0, 0, 6, 0, 1, 0, 0, 0], dtype=float)
    prob, size = fm.tsb_state(y[None, :])
    _, prob_ref, size_ref = tsb_path(y, 0.1, 0.1)
    assert (prob[0], size[0]) == pytest.approx((prob_ref, size_ref))


def test_seasonal_naive_repeats_the_last_season() -> None:
    Y = np.tile([1.0, 5.0, 9.0, 3.0], 5)[None, :]
    assert fm.seasonal_naive(Y, 6, 4)[0].tolist() == [1, 5, 9, 3, 1, 5]
    assert np.isnan(fm.seasonal_naive(Y[:, :3], 2, 4)).all()


def test_select_picks_the_right_kind_of_model() -> None:
    rng = np.random.default_rng(3)
    n = 156
    seasonal = 100 + 60 * np.sin(2 * np.pi * np.arange(n) / 52) + rng.normal(0, 2, n)
    trend = 20 + 1.5 * np.arange(n)
    fit = fm.select(np.vstack([seasonal, trend]), 13, 52, 13)
    assert list(fit.model) == ["seasonal_naive", "holt"]
    assert fit.forecast[1] == pytest.approx(20 + 1.5 * np.arange(n, n + 13))
    assert fit.sigma[1] == pytest.approx(0.0, abs=1e-9)
    assert (fit.forecast >= 0).all()


def test_intermittent_demand_uses_the_intermittent_models() -> None:
    rng = np.random.default_rng(5)
    sporadic = np.where(rng.random((3, 120)) < 0.2, rng.integers(1, 6, (3, 120)), 0).astype(float)
    steady = rng.normal(50, 5, (1, 120))
    fit = fm.select(np.vstack([sporadic, steady]), 8, 52, 13)
    assert list(fit.intermittent) == [True, True, True, False]
    for model in fit.model[:3]:
        assert set(model.split(" + ")) <= {"croston", "tsb"}
    assert not {"croston", "tsb"} & set(fit.model[3].split(" + "))
    assert np.isinf(fit.scores[:3, list(fit.names).index("ses")]).all()


def test_two_close_models_are_averaged() -> None:
    rng = np.random.default_rng(8)
    Y = rng.normal(100, 10, (1, 104))  # level noise: SES and Holt score about the same
    fit = fm.select(Y, 4, 52, 13)
    assert " + " in fit.model[0]
    first, second = fit.model[0].split(" + ")
    both = (
        fm.FAST_MODELS[first].forecast(Y, 4, 52) + fm.FAST_MODELS[second].forecast(Y, 4, 52)
    ) / 2
    assert fit.forecast[0] == pytest.approx(both[0])


def test_select_falls_back_to_the_mean_with_too_little_history() -> None:
    Y = np.full((1, 10), np.nan)
    Y[0, -3:] = [4.0, 6.0, 8.0]
    fit = fm.select(Y, 5, 52, 13)
    assert fit.model[0] == "mean"
    assert fit.forecast[0] == pytest.approx(np.full(5, 6.0))
    assert fit.sigma[0] == pytest.approx(np.std([4.0, 6.0, 8.0]))


def _daily_orders() -> pd.DataFrame:
    days = pd.date_range("2025-01-06", "2025-12-31", freq="D")  # a Monday to a Wednesday
    steady = pd.DataFrame({"sku": "A", "date": days, "quantity": 2.0})
    late = pd.DataFrame({"sku": "B", "date": days[days >= "2025-07-07"], "quantity": 1.0})
    return pd.concat([steady, late], ignore_index=True)


def test_weekly_buckets_start_on_monday_and_drop_an_incomplete_last_week() -> None:
    skus, Y, periods = demand_matrix(_daily_orders(), resolve_freq("W"))
    assert list(skus) == ["A", "B"]
    assert periods[0] == pd.Timestamp("2025-01-06") and periods[0].day_name() == "Monday"
    assert periods[-1] == pd.Timestamp("2025-12-22")  # the week of 29 December is cut short
    assert (Y[0] == 14.0).all()
    assert np.isnan(Y[1, :26]).all() and (Y[1, 26:] == 7.0).all()


def test_weekly_data_dated_on_mondays_keeps_its_last_week() -> None:
    mondays = pd.date_range("2025-01-06", periods=30, freq="W-MON")
    orders = pd.DataFrame({"sku": "A", "date": mondays, "quantity": 5.0})
    _, Y, periods = demand_matrix(orders, resolve_freq("W"))
    assert periods[-1] == mondays[-1] and Y.shape == (1, 30)


def test_forecast_demand_table() -> None:
    demand = forecast_demand(_daily_orders(), horizon=8)
    table = demand.table.set_index("sku")
    assert list(demand.table.columns[:8]) == [
        "sku", "model", "demand_mean", "demand_std", "periods", "mean_history", "cv", "last_date",
    ]  # fmt: skip
    assert table.loc["A", "demand_mean"] == pytest.approx(14.0)
    assert table.loc["A", "demand_std"] == pytest.approx(0.0)
    assert table.loc["B", "periods"] == 25 and table.loc["B", "mean_history"] == pytest.approx(7.0)
    assert table.loc["A", "cv"] == pytest.approx(0.0)
    assert demand.freq == "weekly" and demand.period_days == 7.0 and demand.mode == "fast"
    assert demand.periods_per_year == pytest.approx(365.25 / 7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "slow"}, "mode"),
        ({"horizon": 0}, "horizon"),
        ({"freq": "fortnightly"}, "frequency"),
    ],
)
def test_forecast_demand_bad_arguments(kwargs, message) -> None:
    with pytest.raises(UserInputError, match=message):
        forecast_demand(_daily_orders(), **kwargs)


def test_orders_without_a_quantity_column() -> None:
    with pytest.raises(UserInputError, match="quantity"):
        forecast_demand(_daily_orders().drop(columns="quantity"))

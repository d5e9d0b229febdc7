"""What-if scenarios: each lever moves safety stock, lead times and carbon by the right amount."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from core.errors import UserInputError
from core.supply_chain import scenarios
from core.supply_chain.demand import forecast_demand
from core.supply_chain.policy import PolicySettings, compute_policy
from core.supply_chain.scenarios import Scenario
from tests.unit import supply_factories as f

TODAY = datetime.date(2026, 9, 1)


def weekly_orders() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    weeks = pd.date_range("2025-09-01", periods=52, freq="7D")
    return pd.concat(
        [
            pd.DataFrame({"sku": sku, "date": weeks, "quantity": rng.poisson(level, len(weeks))})
            for sku, level in (("sku1", 40), ("sku2", 15), ("sku3", 8))
        ],
        ignore_index=True,
    )


@pytest.fixture
def case():
    data = f.inputs(orders=weekly_orders())
    return data, forecast_demand(data.orders)


def run(data, demand, scenario: Scenario):
    changed, settings = scenarios.apply(data, scenario, PolicySettings())
    base = compute_policy(data, demand, PolicySettings(), today=TODAY).table.set_index("sku")
    new = compute_policy(changed, demand, settings, today=TODAY).table.set_index("sku")
    return base, new, changed


def test_demand_up_scales_safety_stock_and_reorder_point(case):
    base, new, changed = run(*case, Scenario(demand_pct=20))
    assert np.allclose(new["safety_stock"], base["safety_stock"] * 1.2)
    assert np.allclose(new["reorder_point"], base["reorder_point"] * 1.2)
    # shipments carry 20% more weight
    assert np.allclose(changed.shipments["weight_kg"], f.shipments()["weight_kg"] * 1.2)


def test_lead_time_up_follows_the_formula(case):
    base, new, _ = run(*case, Scenario(lead_time_pct=50))
    x = 1.5
    expected = base["z"] * np.sqrt(
        base["lead_time_mean"] * x * base["demand_std"] ** 2
        + base["demand_mean"] ** 2 * (base["lead_time_std"] * x) ** 2
    )
    assert np.allclose(new["safety_stock"], expected)
    assert np.allclose(new["lead_time_days"], base["lead_time_days"] * x)


def test_supplier_out_delays_only_its_skus(case):
    base, new, _ = run(*case, Scenario(supplier_out="B", out_weeks=3))
    assert new.loc["sku2", "lead_time_days"] == pytest.approx(
        base.loc["sku2", "lead_time_days"] + 21
    )
    for sku in ("sku1", "sku3"):  # supplier A's
        assert new.loc[sku, "lead_time_days"] == pytest.approx(base.loc[sku, "lead_time_days"])
    assert new.loc["sku2", "safety_stock"] > base.loc["sku2", "safety_stock"]


def shift_case():
    ordered = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"])
    ships = pd.DataFrame(
        {
            "supplier_id": ["A"] * 4,
            "sku": ["sku1"] * 4,
            "order_date": ordered,
            "promised_date": ordered + pd.Timedelta(days=30),
            "received_date": ordered + pd.to_timedelta([5, 5, 25, 25], unit="D"),
            "mode": ["air", "air", "sea", "sea"],
            "distance_km": [1000.0] * 4,
            "weight_kg": [1000.0] * 4,
            "quantity": [10] * 4,
            "on_time": [True] * 4,
        }
    )
    return f.inputs(orders=weekly_orders(), shipments=ships)


def test_mode_shift_changes_lead_times_and_carbon():
    data = shift_case()
    changed, _ = scenarios.apply(data, Scenario(shift_from="air", shift_to="sea"), PolicySettings())
    days = (changed.shipments["received_date"] - changed.shipments["order_date"]).dt.days
    assert list(changed.shipments["mode"]) == ["sea"] * 4
    assert list(days) == [25, 25, 25, 25]  # air took 5 days, sea 25: ratio 5
    # the master's mean follows the history's mean: 15 days -> 25 days
    master = changed.suppliers.set_index("supplier_id")["lead_time_mean_days"]
    assert master["A"] == pytest.approx(12.0 * 25 / 15)
    assert master["B"] == pytest.approx(30.0)
    half, _ = scenarios.apply(
        data, Scenario(shift_from="air", shift_to="sea", shift_share=0.5), PolicySettings()
    )
    assert list(half.shipments["mode"]) == ["air", "sea", "sea", "sea"]  # every second air one


def test_compare_side_by_side():
    data = shift_case()
    demand = forecast_demand(data.orders)
    result = scenarios.compare(
        data, demand, Scenario(shift_from="air", shift_to="sea"), today=TODAY
    )
    summary = result.summary.set_index("measure")
    carbon_row = summary.loc["Transport emissions (t CO2e)"]
    # 1 t x 1,000 km: air 1.735, short-sea 0.0297 kg per tonne-km
    assert carbon_row["base"] == pytest.approx((2 * 1.735 + 2 * 0.0297) * 1000 / 1000)
    assert carbon_row["scenario"] == pytest.approx(4 * 0.0297)
    assert set(result.skus.columns) >= {"sku", "safety_stock_base", "safety_stock_scenario"}
    assert result.carbon_table == "v0 DESNZ freighting goods"
    assert "100% of air moved to sea" in result.notes[0]


@pytest.mark.parametrize(
    "scenario, message",
    [
        (Scenario(lead_time_pct=900), "between -90% and"),
        (Scenario(demand_pct=float("nan")), "between -90% and"),
        (Scenario(supplier_out="Z", out_weeks=2), "no supplier 'Z'"),
        (Scenario(supplier_out="A", out_weeks=0), "1 to 104 weeks"),
        (Scenario(shift_from="air", shift_to="air"), "two different modes"),
        (Scenario(shift_from="air"), "two different modes"),
        (Scenario(shift_from="air", shift_to="sea", shift_share=0), "between 0% and 100%"),
        (Scenario(shift_from="rail", shift_to="sea"), "no rail history"),
    ],
)
def test_bad_scenarios(scenario, message):
    with pytest.raises(UserInputError, match=message):
        scenarios.apply(shift_case(), scenario, PolicySettings())


def test_mode_shift_needs_shipments():
    with pytest.raises(UserInputError, match="needs shipments"):
        scenarios.apply(
            f.inputs(shipments=None), Scenario(shift_from="air", shift_to="sea"), PolicySettings()
        )

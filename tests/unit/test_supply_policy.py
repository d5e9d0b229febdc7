"""Per-SKU policy against the scalar formulas and hand computations; scenarios; exports."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from core.auth.roles import Role
from core.data.samples import load_sample
from core.errors import UserInputError
from core.supply_chain import inventory as inv
from core.supply_chain.demand import DemandForecast, forecast_demand
from core.supply_chain.inputs import load_inputs, make_inputs
from core.supply_chain.policy import ORDER_COLUMNS, PolicySettings, compute_policy

TODAY = datetime.date(2026, 3, 2)
Z95 = 1.6448536269514722


def _demand(rows: list[tuple[str, float, float]]) -> DemandForecast:
    table = pd.DataFrame(
        {
            "sku": [r[0] for r in rows],
            "model": "ses",
            "demand_mean": [r[1] for r in rows],
            "demand_std": [r[2] for r in rows],
            "periods": 52,
            "mean_history": [r[1] for r in rows],
            "cv": [r[2] / r[1] if r[1] else np.nan for r in rows],
            "last_date": pd.Timestamp("2026-02-23"),
            "source": "fast",
        }
    )
    return DemandForecast(table, "weekly", 7.0, 13, "fast")


def _inputs(**overrides):
    tables = {
        "skus": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "unit_cost": [10.0, 2.0],
                "holding_cost_rate": [0.2, 0.25],
                "ordering_cost": [50.0, 20.0],
                "supplier_id": ["S1", "S2"],
            }
        ),
        "suppliers": pd.DataFrame(
            {
                "supplier_id": ["S1", "S2"],
                "name": ["North Works", "=cmd|' /C calc'!A0"],
                "lead_time_mean_days": [14.0, 7.0],
                "lead_time_std_days": [0.0, 3.5],
            }
        ),
        "inventory": pd.DataFrame(
            {"sku": ["A", "B"], "on_hand": [150.0, 900.0], "on_order": [50.0, 0.0]}
        ),
    }
    tables.update(overrides)
    return make_inputs(**tables)


def test_policy_by_hand() -> None:
    result = compute_policy(_inputs(), _demand([("A", 100.0, 20.0), ("B", 30.0, 6.0)]), today=TODAY)
    a = result.table.set_index("sku").loc["A"]
    # Lead time 14 days = 2 weeks, no spread: SS = z * 20 * sqrt(2); ROP = 100 * 2 + SS.
    assert a["lead_time_mean"] == 2.0 and a["lead_time_source"] == "supplier master"
    assert a["safety_stock"] == pytest.approx(Z95 * 20 * math.sqrt(2))
    assert a["reorder_point"] == pytest.approx(200 + Z95 * 20 * math.sqrt(2))
    annual = 100 * 365.25 / 7
    assert a["annual_demand"] == pytest.approx(annual)
    assert a["eoq"] == pytest.approx(math.sqrt(2 * 50 * annual / (10 * 0.2)))
    assert a["order_up_to"] == pytest.approx(100 * 3 + Z95 * 20 * math.sqrt(3))
    # Position 150 + 50 = 200 <= ROP: one EOQ lifts it above, ordered today.
    assert a["position"] == 200.0
    assert a["order_qty"] == math.ceil(a["eoq"])
    assert a["order_by"] == pd.Timestamp(TODAY)
    assert a["days_of_cover"] == pytest.approx(150 / (100 / 7))  # 10.5 days
    assert a["stockout_date"] == pd.Timestamp(TODAY + datetime.timedelta(days=10))
    assert a["stockout_probability"] == pytest.approx(0.5)  # position = mean lead-time demand
    assert a["order_value"] == pytest.approx(a["order_qty"] * 10.0)


def test_policy_agrees_with_the_scalar_formulas() -> None:
    result = compute_policy(_inputs(), _demand([("A", 100.0, 20.0), ("B", 30.0, 6.0)]), today=TODAY)
    b = result.table.set_index("sku").loc["B"]
    # B: lead time 1 week with a spread of 0.5 weeks.
    assert b["safety_stock"] == pytest.approx(inv.safety_stock(0.95, 6.0, 1.0, 30.0, 0.5))
    assert b["reorder_point"] == pytest.approx(inv.reorder_point(0.95, 30.0, 6.0, 1.0, 0.5))
    assert b["eoq"] == pytest.approx(inv.eoq(30 * 365.25 / 7, 20.0, 0.5))
    assert b["order_up_to"] == pytest.approx(inv.order_up_to_level(0.95, 30.0, 6.0, 1.0, 1.0))
    sigma = inv.lead_time_demand_std(6.0, 1.0, 30.0, 0.5)
    assert b["stockout_probability"] == pytest.approx(inv.stockout_probability(900, 30, sigma))
    # B has 900 on hand against a reorder point near 60: no order; A is ordered first.
    assert b["order_qty"] == 0 and pd.isna(b["order_by"])
    assert list(result.recommended_orders["sku"]) == ["A"]
    # Annual values 52,179 (A) and 3,131 (B): B's share before it is 94.3%, under 95%.
    assert result.table.set_index("sku")["abc"].to_dict() == {"A": "A", "B": "B"}


def test_fill_rate_target_per_sku() -> None:
    settings = PolicySettings(fill_rate=0.99)
    result = compute_policy(_inputs(), _demand([("A", 100.0, 20.0), ("B", 30.0, 6.0)]), settings)
    for row in result.table.itertuples():
        expected = inv.z_for_fill_rate(0.99, row.eoq, row.sigma_lead_time)
        assert row.z == pytest.approx(expected, abs=1e-7)
        assert inv.fill_rate(row.z, row.eoq, row.sigma_lead_time) == pytest.approx(0.99, abs=1e-7)


def test_scenario_levers() -> None:
    demand = _demand([("A", 100.0, 20.0), ("B", 30.0, 6.0)])
    base = compute_policy(_inputs(), demand, today=TODAY).table.set_index("sku")
    more = compute_policy(_inputs(), demand, PolicySettings(demand_factor=1.2), today=TODAY)
    assert more.table.set_index("sku")["reorder_point"].to_numpy() == pytest.approx(
        1.2 * base["reorder_point"].to_numpy()
    )
    out = PolicySettings(extra_lead_time_days=(("S1", 28.0),))
    late = compute_policy(_inputs(), demand, out, today=TODAY).table.set_index("sku")
    assert late.loc["A", "lead_time_mean"] == 6.0 and late.loc["B", "lead_time_mean"] == 1.0
    assert late.loc["A", "safety_stock"] == pytest.approx(Z95 * 20 * math.sqrt(6))
    slow = compute_policy(_inputs(), demand, PolicySettings(lead_time_factor=1.5), today=TODAY)
    assert slow.table.set_index("sku").loc["B", "lead_time_std"] == pytest.approx(0.75)


def test_without_costs_orders_go_up_to_the_order_up_to_level() -> None:
    inputs = _inputs().with_table("skus", None)
    result = compute_policy(inputs, _demand([("A", 100.0, 20.0)]), today=TODAY)
    a = result.table.iloc[0]
    assert np.isnan(a["eoq"]) and a["lead_time_source"] == "unknown"
    assert np.isnan(a["safety_stock"]) and a["order_qty"] == 0
    assumed = compute_policy(
        inputs,
        _demand([("A", 100.0, 20.0)]),
        PolicySettings(default_lead_time_days=14),
        today=TODAY,
    )
    a = assumed.table.iloc[0]
    assert a["lead_time_source"] == "assumed"
    assert a["order_qty"] == math.ceil(a["order_up_to"] - 200)
    assert any("No SKU master" in n for n in assumed.notes)


def test_without_inventory_there_is_no_cover_but_a_policy() -> None:
    inputs = _inputs().with_table("inventory", None)
    result = compute_policy(inputs, _demand([("A", 100.0, 20.0)]), today=TODAY)
    a = result.table.iloc[0]
    assert a["reorder_point"] > 0 and np.isnan(a["days_of_cover"]) and a["order_qty"] == 0
    assert result.recommended_orders.empty
    assert any("No inventory snapshot" in n for n in result.notes)


def test_recommended_orders_export_is_formula_safe() -> None:
    demand = _demand([("A", 100.0, 20.0), ("B", 300.0, 60.0)])
    stock = pd.DataFrame({"sku": ["A", "B"], "on_hand": [150.0, 500.0], "on_order": [50.0, 0.0]})
    result = compute_policy(_inputs(inventory=stock), demand, today=TODAY)
    orders = result.recommended_orders
    assert list(orders.columns) == list(ORDER_COLUMNS)
    assert list(orders["sku"]) == ["A", "B"]  # both today: the larger order value first
    assert orders["order_value"].iloc[0] > orders["order_value"].iloc[1]
    assert "reorder point" in orders["why"].iloc[0]
    csv = result.orders_csv().decode("utf-8-sig")
    assert "'=cmd" in csv and ",=cmd" not in csv
    assert result.summary()["orders"] == 2.0


@pytest.mark.parametrize(
    "settings",
    [
        PolicySettings(service_level=1.0),
        PolicySettings(service_level=0.0),
        PolicySettings(fill_rate=1.2),
        PolicySettings(review_period=-1),
        PolicySettings(demand_factor=float("nan")),
    ],
)
def test_bad_settings(settings) -> None:
    with pytest.raises(UserInputError):
        compute_policy(_inputs(), _demand([("A", 100.0, 20.0)]), settings)


def test_sample_company_end_to_end(services, make_user) -> None:
    user = make_user(Role.ANALYST)
    load_sample(services.catalog, user)
    inputs = load_inputs(services, user)
    demand = forecast_demand(inputs.orders)
    result = compute_policy(inputs, demand)
    table = result.table
    assert len(table) == inputs.skus["sku"].nunique()
    assert (table["lead_time_source"] != "unknown").all()
    assert table[["safety_stock", "reorder_point", "eoq", "days_of_cover"]].notna().all().all()
    assert set(table["abc"]) == {"A", "B", "C"} and set(table["xyz"]) <= {"X", "Y", "Z"}
    assert result.today == datetime.date(2026, 9, 30)  # the inventory snapshot's date
    orders = result.recommended_orders
    assert len(orders) > 0 and orders["supplier_name"].notna().all()
    assert (orders["order_qty"] > 0).all() and result.notes == ()

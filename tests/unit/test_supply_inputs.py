"""Finding the supply-chain tables in the catalog, by role and by name; what views lack."""

from __future__ import annotations

import pandas as pd
import pytest

from core.auth.roles import Role
from core.data.sample import generate_company
from core.data.samples import load_sample
from core.errors import UserInputError
from core.supply_chain.inputs import load_inputs, make_inputs, missing_for, ready_for
from core.supply_chain.lead_times import lead_times


@pytest.fixture
def sample_inputs(services, make_user):
    user = make_user(Role.ANALYST)
    load_sample(services.catalog, user)
    return load_inputs(services, user)


def test_sample_company_gives_every_table(sample_inputs) -> None:
    raw = generate_company()
    inputs = sample_inputs
    assert inputs.sources == {
        "inventory": "sample_inventory v1",
        "orders": "sample_orders v1",
        "skus": "sample_products v1",
        "shipments": "sample_shipments v1",
        "suppliers": "sample_suppliers v1",
    }
    assert list(inputs.orders.columns) == ["sku", "date", "quantity"]
    assert len(inputs.orders) == len(raw["orders"])
    assert inputs.orders["quantity"].sum() == raw["orders"]["quantity"].sum()
    # Inventory: one row per SKU, summed over the three warehouses.
    assert len(inputs.inventory) == raw["products"]["sku"].nunique()
    by_sku = raw["inventory"].groupby("sku")[["on_hand", "on_order"]].sum()
    got = inputs.inventory.set_index("sku")
    assert got.loc["ACC-0001", "on_hand"] == by_sku.loc["ACC-0001", "on_hand"]
    assert got["on_order"].sum() == by_sku["on_order"].sum()
    assert set(inputs.skus.columns) >= {"unit_cost", "holding_cost_rate", "ordering_cost"}
    assert inputs.suppliers["name"].notna().all() and len(inputs.suppliers) == 16
    assert {"order_date", "received_date", "mode", "distance_km"} <= set(inputs.shipments.columns)
    for view in ("policy", "suppliers", "risks", "carbon", "scenarios"):
        assert missing_for(inputs, view) == []
        assert ready_for(inputs, view)


def test_lead_times_prefer_history_then_supplier_master(sample_inputs) -> None:
    table = lead_times(sample_inputs).set_index("sku")
    assert set(table["lead_time_source"]) <= {"delivery history", "supplier master"}
    history = table[table["lead_time_source"] == "delivery history"]
    assert (history["deliveries"] >= 5).all()
    master = table[table["lead_time_source"] == "supplier master"]
    suppliers = sample_inputs.suppliers.set_index("supplier_id")
    row = master.iloc[0]
    assert row["lead_time_mean_days"] == suppliers.loc[row["supplier_id"], "lead_time_mean_days"]
    ships = sample_inputs.shipments
    sku = history.index[0]
    days = (ships["received_date"] - ships["order_date"]).dt.days[ships["sku"] == sku]
    assert history.loc[sku, "lead_time_mean_days"] == pytest.approx(days.mean())
    assert history.loc[sku, "lead_time_std_days"] == pytest.approx(days.std())


def test_a_subset_works_and_says_what_is_missing(services, make_user) -> None:
    user = make_user(Role.ANALYST)
    load_sample(services.catalog, user)
    inputs = load_inputs(services, user, ["sample_orders"])
    assert inputs.orders is not None and inputs.inventory is None
    assert ready_for(inputs, "policy") and not ready_for(inputs, "carbon")
    missing = missing_for(inputs, "policy")
    assert len(missing) == 3 and all(m.startswith("Without ") for m in missing)
    assert any("inventory snapshot" in m for m in missing)
    assert missing_for(inputs, "carbon")[0].startswith("Needs shipments (mode, distance_km")


def test_columns_are_found_by_role_when_names_are_unusual(services, make_user) -> None:
    user = make_user(Role.ANALYST)
    frame = pd.DataFrame(
        {
            "Artikel": ["X1", "X1", "X2"],
            "Tag": pd.to_datetime(["2025-01-06"] * 3),
            "Menge": [3, 4, 5],
        }
    )
    services.catalog.ingest_frame(user, frame, name="verkauf", source_name="verkauf.csv")
    services.catalog.set_roles(
        user, "verkauf", {"Artikel": "sku", "Tag": "date", "Menge": "quantity"}
    )
    inputs = load_inputs(services, user, ["verkauf"])
    assert inputs.sources == {"orders": "verkauf v1"}
    assert inputs.orders.groupby("sku")["quantity"].sum().to_dict() == {"X1": 7.0, "X2": 5.0}


def test_a_named_dataset_that_is_no_table_is_an_error(services, make_user) -> None:
    user = make_user(Role.ANALYST)
    services.catalog.ingest_frame(
        user, pd.DataFrame({"city": ["Oslo"], "rain": [3.0]}), name="w", source_name="w.csv"
    )
    with pytest.raises(UserInputError, match="none of the supply-chain tables"):
        load_inputs(services, user, ["w"])
    assert load_inputs(services, user).sources == {}  # automatic: skipped, nothing found


def test_two_datasets_of_one_table_are_refused(services, make_user) -> None:
    user = make_user(Role.ANALYST)
    load_sample(services.catalog, user)
    with pytest.raises(UserInputError, match="sample_orders and sample_orders are both orders"):
        load_inputs(services, user, ["sample_orders", "sample_orders"])


def test_negative_costs_are_refused() -> None:
    skus = pd.DataFrame({"sku": ["A", "B"], "unit_cost": [4.0, -1.0]})
    with pytest.raises(UserInputError, match=r"unit_cost cannot be negative.*sku B"):
        make_inputs(skus=skus)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(UserInputError, match="no 'quantity' column") as info:
        make_inputs(orders=pd.DataFrame({"sku": ["A"], "date": ["2025-01-01"]}))
    assert "\n" not in str(info.value)
    with pytest.raises(UserInputError, match="Unknown supply-chain table"):
        make_inputs(stock=pd.DataFrame({"sku": ["A"]}))


def test_lead_time_fallbacks() -> None:
    day = pd.Timestamp("2025-01-01")
    shipments = pd.DataFrame(
        {
            "supplier_id": ["S1"] * 6,
            "sku": ["A"] * 3 + ["B"] * 3,
            "order_date": [day] * 6,
            "received_date": day + pd.to_timedelta([10, 12, 14, 20, 22, 24], unit="D"),
        }
    )
    skus = pd.DataFrame({"sku": ["A", "B", "C", "D"], "supplier_id": ["S1", "S1", "S2", "S9"]})
    suppliers = pd.DataFrame({"supplier_id": ["S2"], "lead_time_mean_days": [30.0]})
    inputs = make_inputs(shipments=shipments, skus=skus, suppliers=suppliers)
    table = lead_times(inputs, min_deliveries=5).set_index("sku")
    # A and B have 3 deliveries each (< 5): their supplier's 6 deliveries decide.
    assert table.loc["A", "lead_time_source"] == "supplier history"
    assert table.loc["A", "lead_time_mean_days"] == pytest.approx(17.0)
    assert table.loc["C", "lead_time_source"] == "supplier master"
    assert table.loc["C", "lead_time_std_days"] == 0.0
    assert table.loc["D", "lead_time_source"] == "unknown"
    assert table.loc["A", "deliveries"] == 3
    table = lead_times(inputs, min_deliveries=3, default_days=9).set_index("sku")
    assert table.loc["B", "lead_time_source"] == "delivery history"
    assert table.loc["B", "lead_time_mean_days"] == pytest.approx(22.0)
    assert table.loc["D", "lead_time_source"] == "assumed"
    assert table.loc["D", "lead_time_mean_days"] == 9.0

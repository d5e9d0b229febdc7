"""Tests for the deterministic sample company generator (core.data.sample)."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from core.data.sample import SAMPLE_SEED, generate_company

END = datetime.date(2026, 9, 30)
DATES, INTS, FLOATS, BOOLS = "date", "int", "float", "bool"
TEXT = "text"
EXPECTED: dict[str, dict[str, str]] = {
    "orders": {
        "order_id": TEXT, "line_no": INTS, "order_date": DATES, "customer_id": TEXT, "sku": TEXT,
        "product_name": TEXT, "category": TEXT, "region": TEXT, "channel": TEXT,
        "promotion": BOOLS, "quantity": INTS, "unit_price": FLOATS, "discount_pct": FLOATS,
        "amount": FLOATS, "unit_cost": FLOATS,
    },
    "customers": {
        "customer_id": TEXT, "customer_name": TEXT, "email": TEXT, "signup_date": DATES,
        "region": TEXT, "acquisition_channel": TEXT, "customer_type": TEXT,
    },
    "products": {
        "sku": TEXT, "product_name": TEXT, "category": TEXT, "unit_price": FLOATS,
        "unit_cost": FLOATS, "supplier_id": TEXT, "holding_cost_rate": FLOATS,
        "ordering_cost": FLOATS, "weight_kg": FLOATS,
    },
    "suppliers": {
        "supplier_id": TEXT, "supplier_name": TEXT, "country": TEXT,
        "lead_time_mean_days": FLOATS, "lead_time_std_days": FLOATS, "on_time_rate": FLOATS,
        "defect_rate": FLOATS, "certifications": TEXT,
    },
    "inventory": {
        "sku": TEXT, "warehouse": TEXT, "snapshot_date": DATES, "on_hand": INTS, "on_order": INTS,
    },
    "shipments": {
        "shipment_id": TEXT, "supplier_id": TEXT, "sku": TEXT, "order_date": DATES,
        "promised_date": DATES, "received_date": DATES, "mode": TEXT, "distance_km": INTS,
        "weight_kg": FLOATS, "quantity": INTS, "on_time": BOOLS,
    },
}  # fmt: skip
CHECKS = {
    DATES: pd.api.types.is_datetime64_any_dtype,
    INTS: pd.api.types.is_integer_dtype,
    FLOATS: pd.api.types.is_float_dtype,
    BOOLS: pd.api.types.is_bool_dtype,
    TEXT: pd.api.types.is_string_dtype,
}


@pytest.fixture(scope="module")
def company() -> dict[str, pd.DataFrame]:
    return generate_company()


@pytest.fixture(scope="module")
def orders(company: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return company["orders"]


@pytest.fixture(scope="module")
def daily(orders: pd.DataFrame) -> pd.DataFrame:
    """Revenue, units, order count and promo flag for every calendar day (missing days = 0)."""
    days = pd.date_range(orders["order_date"].min(), END, freq="D")
    frame = orders.groupby("order_date").agg(
        revenue=("amount", "sum"),
        units=("quantity", "sum"),
        orders=("order_id", "nunique"),
        promo=("promotion", "any"),
    )
    return frame.reindex(days, fill_value=0)


def test_tables_columns_and_dtypes(company: dict[str, pd.DataFrame]) -> None:
    assert set(company) == set(EXPECTED)
    for table, columns in EXPECTED.items():
        frame = company[table]
        assert list(frame.columns) == list(columns), table
        for column, kind in columns.items():
            assert CHECKS[kind](frame[column]), f"{table}.{column} is {frame[column].dtype}"
        assert not frame.isna().any().any(), f"{table} has missing values"


def test_same_seed_gives_identical_frames(company: dict[str, pd.DataFrame]) -> None:
    again = generate_company(SAMPLE_SEED)
    for table, frame in company.items():
        pd.testing.assert_frame_equal(frame, again[table])


def test_different_seed_gives_different_data(company: dict[str, pd.DataFrame]) -> None:
    other = generate_company(SAMPLE_SEED + 1)
    for table in ("orders", "customers", "products", "shipments"):
        assert not company[table].equals(other[table]), table


def test_row_counts(company: dict[str, pd.DataFrame]) -> None:
    assert 100_000 <= len(company["orders"]) <= 160_000
    assert 5_000 <= len(company["customers"]) <= 8_000
    assert 150 <= len(company["products"]) <= 300
    assert 12 <= len(company["suppliers"]) <= 20
    assert 6 <= company["products"]["category"].nunique() <= 8
    assert company["suppliers"]["country"].nunique() >= 10
    n_warehouses = company["inventory"]["warehouse"].nunique()
    assert len(company["inventory"]) == len(company["products"]) * n_warehouses
    assert len(company["shipments"]) >= 500


def test_keys_are_unique(company: dict[str, pd.DataFrame]) -> None:
    assert not company["orders"].duplicated(["order_id", "line_no"]).any()
    assert not company["orders"].duplicated(["order_id", "sku"]).any()
    assert company["customers"]["customer_id"].is_unique
    assert company["customers"]["email"].is_unique
    assert company["products"]["sku"].is_unique
    assert company["suppliers"]["supplier_id"].is_unique
    assert company["shipments"]["shipment_id"].is_unique
    assert not company["inventory"].duplicated(["sku", "warehouse"]).any()


def test_foreign_keys_resolve(company: dict[str, pd.DataFrame]) -> None:
    o, c, p, s = (company[t] for t in ("orders", "customers", "products", "suppliers"))
    assert o["sku"].isin(p["sku"]).all()
    assert o["customer_id"].isin(c["customer_id"]).all()
    assert p["supplier_id"].isin(s["supplier_id"]).all()
    assert company["inventory"]["sku"].isin(p["sku"]).all()
    assert company["shipments"]["sku"].isin(p["sku"]).all()
    assert company["shipments"]["supplier_id"].isin(s["supplier_id"]).all()
    # Denormalised columns agree with their source tables.
    lines = o.merge(p, on="sku", suffixes=("", "_p")).merge(
        c, on="customer_id", suffixes=("", "_c")
    )
    assert len(lines) == len(o)
    assert (lines["product_name"] == lines["product_name_p"]).all()
    assert (lines["category"] == lines["category_p"]).all()
    assert (lines["region"] == lines["region_c"]).all()
    shipped = company["shipments"].merge(p, on="sku", suffixes=("", "_p"))
    assert (shipped["supplier_id"] == shipped["supplier_id_p"]).all()


def test_lines_of_an_order_share_header_fields(orders: pd.DataFrame) -> None:
    header = orders.groupby("order_id")[["order_date", "customer_id", "region", "channel"]]
    assert (header.nunique() == 1).all().all()
    sizes = orders.groupby("order_id").size()
    assert (sizes > 1).mean() > 0.3
    first_lines = orders.groupby("order_id")["line_no"].agg(["min", "max"])
    assert (first_lines["min"] == 1).all()
    assert (first_lines["max"] == sizes).all()


def test_amount_arithmetic_and_ranges(orders: pd.DataFrame) -> None:
    expected = orders["quantity"] * orders["unit_price"] * (1 - orders["discount_pct"])
    assert np.allclose(orders["amount"], expected, atol=0.006, rtol=0)
    for column in ("amount", "unit_price"):
        cents = orders[column] * 100
        assert np.allclose(cents, cents.round(), atol=1e-6), column
    assert (orders["amount"] > 0).all()
    assert (orders["quantity"] >= 1).all()
    assert orders["discount_pct"].between(0, 0.4).all()
    assert (orders["unit_cost"] > 0).all()
    assert (orders["unit_cost"] < orders["unit_price"]).all()


def test_date_span(company: dict[str, pd.DataFrame], orders: pd.DataFrame) -> None:
    first, last = orders["order_date"].min(), orders["order_date"].max()
    assert (last - first).days >= 3 * 365
    assert last <= pd.Timestamp(END)
    assert (company["inventory"]["snapshot_date"] == pd.Timestamp(END)).all()
    ships = company["shipments"]
    assert ships["order_date"].min() >= first
    assert ships["received_date"].max() <= pd.Timestamp(END)


def test_yearly_seasonality(daily: pd.DataFrame) -> None:
    holiday = daily.index.month.isin([11, 12])
    assert daily.loc[holiday, "revenue"].mean() > 1.2 * daily["revenue"].mean()


def test_upward_trend(daily: pd.DataFrame) -> None:
    first = daily["revenue"].iloc[:365].sum()
    last = daily["revenue"].iloc[-365:].sum()
    assert last > 1.08 * first


def test_promotions_lift_volume_and_discount(daily: pd.DataFrame, orders: pd.DataFrame) -> None:
    assert daily.loc[daily["promo"], "units"].mean() > daily.loc[~daily["promo"], "units"].mean()
    promo = orders["promotion"]
    assert 0.02 < promo.mean() < 0.4
    assert orders.loc[promo, "discount_pct"].mean() > orders.loc[~promo, "discount_pct"].mean()


def test_weekends_differ_by_channel(orders: pd.DataFrame) -> None:
    heads = orders.drop_duplicates("order_id")
    weekend = heads["order_date"].dt.day_of_week >= 5
    share = pd.crosstab(weekend, heads["channel"], normalize="index")
    assert share.loc[True, "Retail"] > share.loc[False, "Retail"]
    assert share.loc[True, "Wholesale"] < 0.5 * share.loc[False, "Wholesale"]


def test_anomalous_days_exist(daily: pd.DataFrame) -> None:
    median = daily["orders"].median()
    assert daily["orders"].min() < 0.2 * median  # outage
    assert daily["orders"].max() > 2.5 * median  # viral spike


def test_pareto_and_intermittent_demand(company: dict[str, pd.DataFrame]) -> None:
    orders = company["orders"]
    units = orders.groupby("sku")["quantity"].sum().sort_values(ascending=False)
    assert units.iloc[: len(units) // 5].sum() > 0.6 * units.sum()
    days_sold = orders.groupby("sku")["order_date"].nunique()
    n_days = orders["order_date"].nunique()
    assert (days_sold < 0.1 * n_days).sum() >= 10


def test_customer_behaviour(company: dict[str, pd.DataFrame], orders: pd.DataFrame) -> None:
    per_customer = orders.groupby("customer_id")["order_id"].nunique()
    assert (per_customer == 1).mean() > 0.3  # many one-time buyers
    assert (per_customer >= 2).sum() >= 1_000  # repeat buyers
    assert (per_customer >= 20).sum() >= 100  # a loyal core
    last_order = orders.groupby("customer_id")["order_date"].max()
    churned = last_order[per_customer >= 3] < pd.Timestamp(END) - pd.Timedelta(days=365)
    assert churned.sum() >= 100
    customers = company["customers"]
    new = customers["signup_date"] >= orders["order_date"].min()
    assert new.sum() >= 2_000
    by_year = customers.loc[new, "signup_date"].dt.year.value_counts()
    assert by_year.size >= 3
    assert set(customers["customer_type"]) == {"Consumer", "Business"}
    assert customers["email"].str.endswith("@example.com").all()


def test_shipments_are_consistent(company: dict[str, pd.DataFrame]) -> None:
    ships, suppliers = company["shipments"], company["suppliers"]
    assert (ships["on_time"] == (ships["received_date"] <= ships["promised_date"])).all()
    assert (ships["received_date"] > ships["order_date"]).all()
    assert (ships["promised_date"] > ships["order_date"]).all()
    assert set(ships["mode"]) <= {"sea", "air", "road", "rail"}
    assert (ships["quantity"] > 0).all() and (ships["weight_kg"] > 0).all()
    assert ships["order_date"].is_monotonic_increasing
    # Supplier scorecards: realised behaviour tracks each supplier's stated profile.
    ships = ships.assign(lead=(ships["received_date"] - ships["order_date"]).dt.days)
    realised = ships.groupby("supplier_id").agg(on_time=("on_time", "mean"), lead=("lead", "mean"))
    profile = suppliers.set_index("supplier_id").join(realised)
    assert profile["on_time"].corr(profile["on_time_rate"]) > 0.7
    assert profile["lead"].corr(profile["lead_time_mean_days"]) > 0.8


def test_inventory_and_product_ranges(company: dict[str, pd.DataFrame]) -> None:
    inventory, products = company["inventory"], company["products"]
    assert (inventory["on_hand"] >= 0).all() and (inventory["on_order"] >= 0).all()
    assert (inventory["on_hand"] == 0).sum() >= 5
    assert (inventory["on_order"] > 0).any()
    assert products["holding_cost_rate"].between(0.15, 0.3).all()
    assert (products["unit_cost"] < products["unit_price"]).all()
    assert (products["ordering_cost"] > 0).all() and (products["weight_kg"] > 0).all()
    assert products.groupby("category")["unit_price"].median().nunique() >= 6


def test_parameters_respected_and_silent(capsys: pytest.CaptureFixture[str]) -> None:
    end = datetime.date(2025, 6, 30)
    tables = generate_company(seed=7, end=end, years=1)
    dates = tables["orders"]["order_date"]
    assert dates.max() <= pd.Timestamp(end)
    assert dates.min() >= pd.Timestamp(end) - pd.Timedelta(days=366)
    assert capsys.readouterr() == ("", "")

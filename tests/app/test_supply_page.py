"""The Supply chain page: tabs, cards, register edits, weights, admin-only editors, hostile data."""

from __future__ import annotations

import pandas as pd
import pytest

from components.session import USER_KEY
from core.auth import users
from core.auth.roles import Role, User
from core.data.samples import load_sample
from core.supply_chain import carbon_tables, preferences, register
from tests.app.conftest import click, metrics, texts

PAGE = "views/supply_chain.py"
SYSTEM = User.system()
TABS = ["Inventory policy", "Recommended orders", "Suppliers", "Risk register", "What-if", "Carbon"]
SCOPE = "sample_suppliers"


@pytest.fixture
def sample(services):
    load_sample(services.catalog, SYSTEM)
    return services


def buttons(at) -> list[str]:
    return [b.label for b in at.button]


def test_analyst_sees_cards_tabs_and_edits_the_register(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    assert not at.exception
    assert [t.label for t in at.tabs][:6] == TABS
    cards = metrics(at)
    assert cards["SKUs likely to stock out"].endswith("of 243")
    assert "Orders to place" in cards and "High risks" in cards
    assert cards["Transport emissions"].endswith("t CO2e")
    # opening the page as an analyst wrote the assessment into the register
    stored = register.entries(sample.store, SYSTEM, SCOPE)
    assert stored and all(e.status == "open" for e in stored)
    at.session_state["supply_reg_editor_0"] = {
        "edited_rows": {
            0: {"owner": "Sam <b>Lee</b>", "status": "mitigating", "notes": "=cmd|' /C calc'!A0"}
        },
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at = click(at, "Save 1 change(s)")
    assert not at.exception and not at.error
    top = register.entries(sample.store, SYSTEM, SCOPE)[0]
    assert (top.owner, top.status) == ("Sam <b>Lee</b>", "mitigating")
    assert top.notes == "=cmd|' /C calc'!A0"
    # a refresh (another service level) keeps the edit
    at.slider(key="supply_service_level").set_value(0.99).run()
    kept = {e.risk_id: e for e in register.entries(sample.store, SYSTEM, SCOPE)}[top.risk_id]
    assert kept.owner == "Sam <b>Lee</b>" and kept.status == "mitigating"


def test_weights_are_saved_and_score_the_suppliers(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    analyst = users.get_user(sample.store, at.session_state[USER_KEY])
    for name in ("lead_time", "lead_time_cv", "defect_rate"):
        at.slider(key=f"supply_sup_w_{name}").set_value(0.0).run()
    at = click(at, "Save weights")
    assert not at.exception and not at.error
    assert preferences.weights(sample.store, analyst) == {
        "on_time": 0.4, "lead_time": 0.0, "lead_time_cv": 0.0, "defect_rate": 0.0,
    }  # fmt: skip
    assert preferences.weights(sample.store, SYSTEM) == preferences.DEFAULT_WEIGHTS
    # scored by on-time alone: the ranking follows on-time delivery
    table = next(d.value for d in at.dataframe if "on_time" in d.value.columns)
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    assert list(table["score"]) == [round(v * 100, 1) for v in table["on_time"]]


def test_viewer_reads_without_editors(app_as, sample):
    at = app_as(Role.VIEWER, PAGE)
    assert not at.exception
    labels = buttons(at)
    assert "Save weights" not in labels and not any(b.startswith("Save") for b in labels)
    assert "supply_reg_editor_0" not in at.session_state  # a read-only table, not an editor
    expanders = [e.label for e in at.expander]
    assert not any("(admin)" in label for label in expanders)
    assert all(s.disabled for s in at.slider if s.key and s.key.startswith("supply_sup_w_"))
    assert register.entries(sample.store, SYSTEM, SCOPE) == []  # viewers never write


def test_admin_sees_country_table_and_factor_editors(app_as, sample):
    at = app_as(Role.ADMIN, PAGE)
    assert not at.exception
    expanders = [e.label for e in at.expander]
    assert any("Country risk table" in label for label in expanders)
    assert "Save country table" in buttons(at) and "Save as new version" in buttons(at)
    at.text_area(key="supply_admin_certs").set_value("ISO 9001, SA8000").run()
    at = click(at, "Save certifications")
    assert preferences.required_certifications(sample.store, SYSTEM) == ("ISO 9001", "SA8000")
    # a new factor table version from the editor, then every result names it
    at.text_input(key="supply_factors_name").set_value("Fleet study").run()
    at = click(at, "Save as new version")
    assert texts(at.error) == ["Say where the factors come from (publisher, edition, units)."]
    at.text_area(key="supply_factors_source").set_value("Internal telematics, 2026").run()
    at = click(at, "Save as new version")
    assert not at.error
    assert carbon_tables.current(sample.store, SYSTEM).name == "Fleet study"
    assert any("Factor table v1: Fleet study" in c for c in texts(at.caption))


def test_monte_carlo_and_what_if(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    at = click(at, "Simulate")
    cards = metrics(at)
    assert "Stock-out per cycle: analytic" in cards and "Fill rate: simulated" in cards
    at.number_input(key="supply_whatif_demand").set_value(20.0)  # inside the form: no rerun
    at = click(at, "Compare with the base case")
    assert not at.exception and not at.error
    assert any("demand +20%" in t for t in texts(at.markdown))
    assert "Safety stock (units)" in metrics(at)


def test_missing_tables_are_named(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    at.multiselect(key="supply_sources").set_value(["sample_suppliers"]).run()
    assert not at.exception
    warnings = texts(at.warning)
    assert any(w.startswith("Needs orders") for w in warnings)
    assert any("shipments (mode, distance_km, weight_kg)" in w for w in warnings)


def test_hostile_supplier_names_are_text(app_as, services):
    hostile = "<img src=x onerror=alert(1)> **Evil** Co"
    frames = {
        "sup": pd.DataFrame(
            {"supplier_id": ["S1"], "supplier_name": [hostile], "country": ["Germany"],
             "lead_time_mean_days": [10.0], "lead_time_std_days": [2.0],
             "on_time_rate": [0.9], "defect_rate": [0.01], "certifications": ["ISO 9001"]}
        ),
        "prod": pd.DataFrame(
            {"sku": ["=HYPERLINK(\"http://x\")"], "product_name": ["@SUM(A1)"], "category": ["C"],
             "unit_cost": [5.0], "supplier_id": ["S1"], "holding_cost_rate": [0.2],
             "ordering_cost": [50.0], "weight_kg": [1.0]}
        ),
        "ord": pd.DataFrame(
            {"order_date": pd.date_range("2025-01-06", periods=60, freq="7D"),
             "sku": "=HYPERLINK(\"http://x\")", "quantity": 10.0}
        ),
    }  # fmt: skip
    for name, frame in frames.items():
        services.catalog.ingest_frame(SYSTEM, frame, name, f"test: {name}")
    at = app_as(Role.ANALYST, PAGE)
    assert not at.exception
    rendered = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.title))
    assert "<img" not in rendered and "Evil" not in rendered  # names only inside tables
    cards = next(d.value for d in at.dataframe if "on_time" in d.value.columns)
    assert list(cards["name"]) == [hostile]  # shown verbatim, as text
    assert metrics(at)["SKUs likely to stock out"] == "0 of 1"


def test_a_saved_weekly_forecast_per_sku_can_feed_the_policy(app_as, sample):
    """A run saved on the Forecasts page (weekly, per SKU) stands in for the fast models."""
    from core.forecasting import batch, runs

    orders = sample.catalog.get(SYSTEM, "sample_orders")
    con = sample.catalog.connect()
    try:
        frame = con.execute(
            "SELECT order_date, sku, quantity FROM read_parquet($path) "
            "WHERE sku IN ('ACC-0007', 'ACC-0027')",
            {"path": str(orders.path)},
        ).df()
    finally:
        con.close()
    found = batch.forecast_many(
        frame, "sku", "order_date", "quantity", 13,
        freq="weekly", models=("seasonal_naive", "naive"), folds=1, n_jobs=1,
    )  # fmt: skip
    runs.save_run(
        sample.store, SYSTEM, found, name="weekly demand per SKU",
        dataset="sample_orders", dataset_version=orders.version,
        source={"date_col": "order_date", "value_col": "quantity", "id_col": "sku"},
    )  # fmt: skip
    at = app_as(Role.ANALYST, PAGE)
    source = at.radio(key="supply_demand_source")
    assert source.value.startswith("Fast model set")
    fast_cards = metrics(at)
    source.set_value(source.options[1]).run()
    assert not at.exception and not at.error
    notes = " ".join(texts(at.caption) + texts(at.info) + texts(at.markdown))
    assert "241 SKUs were forecast with the fast model set" in notes
    assert metrics(at)["SKUs likely to stock out"].endswith("of 243")
    assert fast_cards.keys() == metrics(at).keys()


def test_carbon_roll_ups_name_each_supplier(app_as, sample):
    at = app_as(Role.VIEWER, PAGE)
    frames = [d.value for d in at.dataframe]
    lanes = next(f for f in frames if {"mode", "kg_co2e"} <= set(f.columns) and "sku" not in f)
    names = suppliers_by_id(sample)
    assert list(lanes.columns[:2]) == ["supplier_id", "supplier"]
    assert (lanes["supplier"] == lanes["supplier_id"].map(names)).all()
    assert lanes["kg_co2e"].is_monotonic_decreasing


def suppliers_by_id(services) -> dict[str, str]:
    dataset = services.catalog.get(SYSTEM, "sample_suppliers")
    frame = pd.read_parquet(dataset.path, columns=["supplier_id", "supplier_name"])
    return dict(zip(frame["supplier_id"], frame["supplier_name"], strict=True))


def test_a_fill_rate_target_replaces_the_cycle_service_level(app_as, sample):
    at = app_as(Role.VIEWER, PAGE)
    before = metrics(at)["Orders to place"]
    at.segmented_control(key="supply_target").set_value("Fill rate").run()
    assert not at.exception and not at.error
    shown = {s.key for s in at.slider}
    assert "supply_fill_rate" in shown and "supply_service_level" not in shown
    at.slider(key="supply_fill_rate").set_value(0.999).run()
    assert not at.exception and not at.error
    assert int(metrics(at)["Orders to place"]) >= int(before)


def test_orders_alone_say_which_skus_the_cards_cannot_count(app_as, services):
    orders = pd.DataFrame(
        {
            "order_date": pd.date_range("2025-01-01", periods=200, freq="D").repeat(2),
            "sku": ["A", "B"] * 200,
            "quantity": [3, 1] * 200,
        }
    )
    services.catalog.ingest_frame(SYSTEM, orders, "orders", "test")
    at = app_as(Role.ANALYST, PAGE)
    assert not at.exception and not at.error
    helps = {m.label: m.proto.help for m in at.metric}
    assert (
        "2 SKUs lack lead time or stock on hand and are not counted"
        in helps["SKUs likely to stock out"]
    )
    assert helps["Orders to place"] == "None can be planned without lead times."
    shown = " ".join(texts(at.caption) + texts(at.warning))
    assert "Without lead times" in shown and "Needs shipments" in shown

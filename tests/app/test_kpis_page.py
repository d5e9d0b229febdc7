"""The KPI page driven through AppTest: dataset, grain, preset, filter, breakdown,
drill-down, saved views and shareable URLs, with the metric values checked by hand."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from core.auth.roles import Role, User
from core.data.samples import load_sample
from tests.app.conftest import APP, TIMEOUT, click, metrics, texts
from tests.unit.test_kpis_cli import orders_csv

KPIS = "views/kpis.py"
CARDS = ("Revenue", "Orders", "Customers", "Average order value")


@pytest.fixture
def shop(services, write_file):
    """The hand-made orders of the query tests as dataset 'shop' (latest date 2025-03-01)."""
    return services.catalog.ingest_file(
        User.system(), write_file("shop.csv", orders_csv()), name="shop"
    )


def cards(at: AppTest) -> tuple[str, ...]:
    shown = metrics(at)
    return tuple(shown[c] for c in CARDS)


def deltas(at: AppTest) -> dict[str, str | None]:
    return {m.label: m.delta for m in at.metric}


def test_kpis_is_the_landing_page_and_shows_the_last_90_days(app_as, shop):
    at = app_as(Role.VIEWER)  # no page switch: the default page
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["KPIs"]
    # 2 Dec 2024 – 1 Mar 2025: O7 30, O8 70, O9 90, O10 10 from C1, C5, C3, C6.
    assert cards(at) == ("200.00", "4", "4", "50.00")
    assert any("2 Dec 2024 – 1 Mar 2025 (90 days)" in c for c in texts(at.caption))
    assert "Define a metric" not in texts(at.subheader)  # viewers read, analysts define
    assert "Warehouse" not in [t.label for t in at.tabs]


def test_grain_preset_filter_and_breakdown(app_as, shop):
    at = app_as(Role.ANALYST, KPIS)
    at.selectbox(key="kpi_preset").select("ytd").run()
    at.selectbox(key="kpi_grain").select("month").run()
    # 1 Jan – 1 Mar 2025: 70 + 90 + 10, against the same 60 days of 2024, which end on
    # 29 February (leap year): 50 + 25 + 80 + 60 = 215 from O2, O3, O4.
    assert cards(at) == ("170.00", "3", "3", "56.67")
    assert deltas(at)["Revenue"] == "-20.9%"
    assert deltas(at)["Average order value"] == "-20.9%"  # 170 / 3 vs 215 / 3
    at.multiselect(key="kpi_filter_cols").select("region").run()
    region = at.multiselect(key="kpi_f_region")
    assert region.options == ["North (5)", "South (3)", "East (2)", "(empty) (1)"]
    region.select("North").run()
    assert cards(at) == ("90.00", "1", "1", "90.00")  # O9
    assert at.query_params["f.region"] == "North"
    assert at.query_params["preset"] == "ytd" and at.query_params["grain"] == "month"
    assert at.selectbox(key="kpi_by").value == "channel"  # region is filtered already


def test_drill_down_and_back(app_as, shop):
    at = app_as(Role.VIEWER, KPIS)
    at.selectbox(key="kpi_preset").select("ytd").run()
    assert at.selectbox(key="kpi_by").value == "region"
    assert at.dataframe[1].value["value"].tolist() == ["North", "East", "(empty)"]
    at.selectbox(key="kpi_drill_0").select("East").run()
    click(at, "Drill down")
    assert not at.exception
    assert cards(at) == ("70.00", "1", "1", "70.00")  # O8
    assert [b.label for b in at.button][:2] == ["All data", "region: East"]
    assert at.selectbox(key="kpi_by").value == "channel"  # the next dimension
    click(at, "All data")
    assert cards(at) == ("170.00", "3", "3", "56.67")
    assert "f.region" not in at.query_params


def test_save_a_view_and_reload_it_from_its_url(app_as, shop):
    at = app_as(Role.VIEWER, KPIS)
    at.selectbox(key="kpi_preset").select("last_month").run()
    at.multiselect(key="kpi_filter_cols").select("channel").run()
    at.multiselect(key="kpi_f_channel").select("Online").run()
    # Last full month as of 1 Mar 2025 is February: O9 (90, Online).
    assert cards(at) == ("90.00", "1", "1", "90.00")
    at.text_input(key="kpi_view_name").input("Online February").run()
    click(at, "Save view")
    assert any("Saved view Online February" in t.value for t in at.toast)
    url = {k: at.query_params[k] for k in at.query_params}

    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.session_state["beacon_user_id"] = at.session_state["beacon_user_id"]
    for key, value in url.items():
        again.query_params[key] = value
    again.run()
    assert not again.exception and not again.warning
    assert cards(again) == ("90.00", "1", "1", "90.00")
    assert again.multiselect(key="kpi_f_channel").value == ["Online"]

    again.selectbox(key="kpi_preset").select("last_90").run()
    assert cards(again) == ("130.00", "3", "3", "43.33")  # Online in 90 days: 30 + 90 + 10
    click(again, "Open")  # the saved view brings its preset back
    assert cards(again) == ("90.00", "1", "1", "90.00")


def test_bad_url_values_are_ignored_with_a_warning(app_as, shop):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["beacon_user_id"] = app_as(Role.VIEWER).session_state["beacon_user_id"]
    at.query_params["grain"] = "fortnight"
    at.query_params["f.email"] = "x"
    at.run()
    assert not at.exception
    assert "grain 'fortnight' is not one of day" in at.warning[0].value
    assert cards(at) == ("200.00", "4", "4", "50.00")


def test_analyst_defines_a_custom_metric(app_as, shop):
    at = app_as(Role.ANALYST, KPIS)
    at.session_state["kpi_tab"] = "Metrics"
    at.run()
    at.text_input(key="kpi_cm_label").input("Online revenue")
    at.selectbox(key="kpi_cm_column").select("amount")
    at.selectbox(key="kpi_cm_filter_column").select("channel")
    at.text_input(key="kpi_cm_values").input("Online")
    at.button(key="FormSubmitter:kpi_custom_form-Save metric").click().run()
    assert not at.exception and not at.error
    assert any("Saved metric Online revenue" in t.value for t in at.toast)
    names = at.multiselect(key="kpi_metrics").options
    assert "Online revenue" in names
    at.multiselect(key="kpi_metrics").select("Online revenue").run()
    # last 90 days: Online rows O7 30, O9 90, O10 10.
    assert metrics(at)["Online revenue"] == "130.00"


def test_the_sample_company_shows_real_numbers(app_as, services):
    load_sample(services.catalog, User.system())
    at = app_as(Role.VIEWER)
    assert not at.exception and not at.error
    assert at.selectbox(key="dataset").value == "sample_orders"  # not the first by name
    shown = metrics(at)
    assert float(shown["Revenue"].replace(",", "")) > 100_000
    assert int(shown["Orders"].replace(",", "")) > 1_000
    assert [t.label for t in at.tabs][:3] == ["Breakdown", "Cohorts", "Anomalies"]
    assert len(at.get("plotly_chart")) == 2  # the series and the breakdown
    at.session_state["kpi_tab"] = "Cohorts"  # only the open tab runs its queries
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2  # the series and the cohort heat map
    retention = next(d.value for d in at.dataframe if "cohort" in d.value.columns)
    assert len(retention) >= 12 and (retention["0"] == 100).all()


def test_targets_show_progress_and_state(app_as, shop):
    at = app_as(Role.ANALYST, KPIS)
    at.session_state["kpi_tab"] = "Targets"
    at.run()
    assert "No targets yet for this dataset's periods." in texts(at.info)
    at.selectbox(key="kpi_target_metric").select("revenue")
    at.selectbox(key="kpi_target_grain").select("month")
    at.date_input(key="kpi_target_period").set_value(date(2025, 2, 10))
    at.number_input(key="kpi_target_value").set_value(100.0)
    at.button(key="FormSubmitter:kpi_target_form-Save target").click().run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "state" in d.value.columns)
    # February 2025 is over (latest data 1 March): revenue 90 (O9) missed a target of 100.
    assert table.to_dict("records") == [
        {"metric": "Revenue", "period": "2025-02", "target": 100.0, "actual": 90.0,
         "progress": 0.9, "projection": 90.0, "state": "missed"}
    ]  # fmt: skip


def test_admin_warehouse_tab_refuses_credentials_without_a_key(app_as, shop):
    at = app_as(Role.ADMIN, KPIS)
    at.session_state["kpi_tab"] = "Warehouse"
    at.run()
    at.text_input(key="kpi_wh_name").input("sales")
    at.text_input(key="kpi_wh_url").input("postgresql+psycopg://kpi:pw@db.example.com/sales")
    at.button(key="FormSubmitter:kpi_connection_form-Add connection").click().run()
    assert not at.exception
    assert "set BEACON_SECRET_KEY" in at.error[0].value
    assert "pw@" not in at.error[0].value

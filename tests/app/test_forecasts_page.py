"""The Forecasts page: analysts run and save forecasts; viewers read saved runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.auth.roles import Role, User
from core.config import load_settings
from core.data.samples import load_sample
from core.forecasting import runs
from core.services import open_services
from tests.app.conftest import click, metrics, texts

PAGE = "views/forecasts.py"
SYSTEM = User.system()


def demand_frame(months: int = 48) -> pd.DataFrame:
    """Three SKUs with trend and a yearly season, two order lines a month each."""
    rng = np.random.default_rng(7)
    rows = []
    for k, sku in enumerate(["A-1", "B-2", "C-3"]):
        for t in range(months):
            month = pd.Timestamp("2021-01-01") + pd.DateOffset(months=t)
            level = (100 + 40 * k) * (1 + 0.01 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
            for day, share in ((3, 0.4), (17, 0.6)):
                rows.append(
                    {
                        "order_date": month + pd.Timedelta(days=day),
                        "sku": sku,
                        "quantity": round(max(0.0, level * share + rng.normal(0, 4)), 1),
                    }
                )
    return pd.DataFrame(rows)


def ingest(frame: pd.DataFrame, name: str):
    services = open_services(load_settings())
    return services.catalog.ingest_frame(SYSTEM, frame, name, f"test: {name}")


@pytest.fixture
def demand():
    return ingest(demand_frame(), "demand")


def run_monthly(at, split: str | None = "sku"):
    at.selectbox(key="fc_freq_demand").select("monthly").run()
    if split:
        at.selectbox(key="fc_split_demand").select(split).run()
    return click(at, "Run forecast")


def test_analyst_runs_a_forecast_and_sees_cards_chart_and_tabs(app_as, demand):
    at = app_as(Role.ANALYST, PAGE)
    assert not at.exception
    assert any("press **Run forecast**" in t for t in texts(at.info))
    at = run_monthly(at)
    assert not at.exception and not at.error
    shown = metrics(at)
    assert set(shown) == {"Next period", "Next 6 periods", "Backtest OWA", "95% range coverage"}
    assert float(shown["Backtest OWA"]) < 1  # beats Naive2 on seasonal data
    assert shown["95% range coverage"].endswith("%")
    assert len(at.get("plotly_chart")) >= 4  # fan chart, leaderboard, backtest, diagnostics
    assert [t.label for t in at.tabs] == [
        "Leaderboard",
        "Backtest",
        "Diagnostics",
        "All series",
        "Saved runs",
    ]
    captions = texts(at.caption)
    assert any("pooled over the 3 series" in c for c in captions)
    labels = {b.label for b in at.get("download_button")}
    assert {"Forecasts CSV", "Forecasts Excel", "Backtest CSV"} <= labels
    # Another series: the cards follow it.
    first = shown["Next period"]
    at.selectbox(key="fc_series").select("C-3").run()
    assert not at.exception and metrics(at)["Next period"] != first
    all_series = at.tabs[3].dataframe[0].value
    assert all_series["id"].tolist() == ["A-1", "B-2", "C-3"]


def test_analyst_saves_a_run_and_a_viewer_reads_it(app_as, demand):
    at = app_as(Role.ANALYST, PAGE)
    at = run_monthly(at)
    at.text_input(key="fc_save_name").input("Demand plan")  # in a form: submit, then run
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error
    services = open_services(load_settings())
    saved = runs.list_runs(services.store, SYSTEM, dataset="demand")
    assert [(r.name, r.series_count) for r in saved] == [("Demand plan", 3)]

    viewer = app_as(Role.VIEWER, PAGE)
    assert not viewer.exception
    assert [b.label for b in viewer.button] == []  # nothing to run
    assert {"Next period", "Next 6 periods", "Backtest OWA"} <= set(metrics(viewer))
    assert len(viewer.get("plotly_chart")) == 1


def test_viewer_without_saved_runs_is_told_who_can_run_one(app_as, demand):
    at = app_as(Role.VIEWER, PAGE)
    assert any("ask an analyst to run and save one" in t for t in texts(at.info))


def test_a_dataset_without_dates_links_to_the_column_mapper(app_as):
    ingest(pd.DataFrame({"sku": ["a", "b"], "quantity": [1, 2]}), "no_dates")
    at = app_as(Role.ANALYST, PAGE)
    assert "Forecasting needs columns with these roles in no_dates: Date." in texts(at.warning)
    assert at.page_link[0].value == "Set column roles on the Data page"


def test_too_little_data_is_one_error_line(app_as):
    ingest(
        pd.DataFrame(
            {"order_date": pd.to_datetime(["2024-01-05", "2024-03-05"]), "quantity": [3.0, 4.0]}
        ),
        "tiny",
    )
    at = app_as(Role.ANALYST, PAGE)
    at = click(at, "Run forecast")
    assert not at.exception
    assert len(at.error) == 1 and "Nothing to forecast" in at.error[0].value


def test_the_sample_company_forecasts_monthly_revenue_by_category(app_as):
    services = open_services(load_settings())
    load_sample(services.catalog, SYSTEM)
    at = app_as(Role.ANALYST, PAGE)
    at.selectbox(key="dataset").select("sample_orders").run()
    at.selectbox(key="fc_value_sample_orders").select("amount").run()
    at.selectbox(key="fc_split_sample_orders").select("category").run()
    at = click(at, "Run forecast")
    assert not at.exception and not at.error
    assert at.selectbox(key="fc_freq_sample_orders").value == "monthly"  # daily rows
    assert len(at.selectbox(key="fc_series").options) == 8  # eight categories
    assert float(metrics(at)["Next period"].replace(",", "")) > 0


def test_a_kpi_metric_can_be_forecast(app_as):
    rng = np.random.default_rng(1)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    frame = pd.DataFrame(
        {
            "order_date": days,
            "order_id": [f"O{i}" for i in range(len(days))],
            "customer_id": [f"C{i % 40}" for i in range(len(days))],
            "amount": 50
            + 10 * np.sin(2 * np.pi * days.day_of_year / 365)
            + rng.normal(0, 2, len(days)),
        }
    )
    ingest(frame, "shop")
    at = app_as(Role.ANALYST, PAGE)
    at.selectbox(key="fc_value_shop").select("KPI: Customers").run()
    assert at.selectbox(key="fc_split_shop").disabled
    at = click(at, "Run forecast")
    assert not at.exception and not at.error
    # One order a day from 40 customers in turn: a month has as many distinct customers as
    # days (28-31), and January 2025 will have 31.
    assert float(metrics(at)["Next period"]) == pytest.approx(31, abs=1)

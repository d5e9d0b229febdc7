"""Custom metrics, targets, saved views and warehouse connections in the store: roles,
validation, audit entries, encryption."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from core import audit
from core.auth.roles import Role, User
from core.config import load_settings
from core.data.duck import connect
from core.errors import PermissionDenied, UserInputError
from core.kpis import custom, targets, views, warehouse
from core.kpis.custom import MetricFilter
from core.kpis.models import WarehouseConnectionRow
from core.kpis.periods import Window
from core.kpis.queries import breakdown, series, totals
from core.kpis.source import DuckRunner
from tests.unit.test_kpis_queries import ALL, make_source, orders_frame

SYSTEM = User.system()


@pytest.fixture
def duck(tmp_path):
    path = tmp_path / "orders.parquet"
    orders_frame().to_parquet(path)
    source = make_source(path=path)
    con = connect()
    yield DuckRunner(con, source), source
    con.close()


@pytest.mark.parametrize(
    ("label", "aggregation", "column", "rule", "expected"),
    [
        # Online rows: 100 + 60 + 40 + 200 + 30 + 90 + 10
        ("Online revenue", "sum", "amount", MetricFilter("channel", "=", ("Online",)), 530),
        # North or South rows' quantities 2 1 1 4 3 2 1 3 over 8 rows
        ("Avg qty", "avg", "quantity", MetricFilter("region", "in", ("North", "South")), 17 / 8),
        # rows over 50: C1 (100, 80), C3 (60, 90), C4 (200), C5 (70)
        ("Big buyers", "count_distinct", "customer_id", MetricFilter("amount", ">", ("50",)), 4),
        ("Smallest line", "min", "amount", None, 10),
        ("Largest retail line", "max", "amount", MetricFilter("channel", "=", ("Retail",)), 80),
        ("No region", "count", None, MetricFilter("region", "is empty", ()), 1),
        ("Since 2025", "count", None, MetricFilter("order_date", ">=", ("2025-01-01",)), 3),
    ],
)
def test_custom_metrics_compute_known_answers(
    services, make_user, duck, label, aggregation, column, rule, expected
):
    runner, source = duck
    analyst = make_user(Role.ANALYST)
    saved = custom.save(services.store, analyst, source, label, aggregation, column, rule)
    (metric,) = custom.metrics_for(services.store, analyst, source)
    assert metric.key == f"custom:{saved.id}" and metric.label == label
    got = totals(runner, source, [metric], {"all": ALL}).loc["all", metric.key]
    assert got == pytest.approx(expected)


def test_custom_metric_breakdowns_and_series(services, make_user, duck):
    runner, source = duck
    analyst = make_user(Role.ANALYST)
    saved = custom.save(services.store, analyst, source, "Buyers", "count_distinct", "customer_id")
    metric = custom.to_metric(saved, source)
    split = breakdown(runner, source, metric, "region", ALL, top=1)
    assert split.table[metric.key].tolist() == [2, 4]  # East; then C1, C2, C3, C6
    low = custom.save(services.store, analyst, source, "Lowest", "min", "amount")
    year = series(
        runner,
        source,
        [custom.to_metric(low, source)],
        "month",
        Window(date(2024, 3, 1), date(2024, 5, 31)),
    )
    assert year["custom:" + str(low.id)].tolist()[0] == 40
    assert year["custom:" + str(low.id)].isna().tolist() == [False, True, False]  # gap in April


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "sum", "amount", None), "Give the metric a name of 1-100 characters."),
        (("X", "median", "amount", None), "Unknown aggregation 'median'"),
        (("X", "sum", "region", None), "Sum needs a numeric column; 'region' is not."),
        (("X", "sum", None, None), "Sum needs a column."),
        (("X", "sum", "nope", None), "There is no column 'nope' in orders."),
        (
            ("X", "sum", "amount", MetricFilter("amount", ">", ("lots",))),
            "Filter value 'lots' for 'amount' must be a number.",
        ),
        (
            ("X", "sum", "amount", MetricFilter("order_date", "<", ("31/01/2024",))),
            "must be a date like 2024-01-31",
        ),
        (
            ("X", "sum", "amount", MetricFilter("region", "like", ("N%",))),
            "Unknown filter operator 'like'",
        ),
        (("X", "sum", "amount", MetricFilter("region", "=", ())), "needs a value"),
        (("X", "sum", "amount", MetricFilter("region", "=", ("A", "B"))), "takes one value"),
    ],
)
def test_custom_metric_definitions_are_validated(services, make_user, duck, args, message):
    _, source = duck
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        custom.save(services.store, make_user(Role.ANALYST), source, *args)


def test_custom_metrics_need_analysts_and_are_audited(services, make_user, duck):
    _, source = duck
    viewer, analyst = make_user(Role.VIEWER), make_user(Role.ANALYST)
    with pytest.raises(PermissionDenied, match="Defining metrics needs the analyst role"):
        custom.save(services.store, viewer, source, "X", "sum", "amount")
    saved = custom.save(services.store, analyst, source, "X", "sum", "amount")
    with pytest.raises(UserInputError, match="already has a metric called 'X'"):
        custom.save(services.store, analyst, source, " X ", "max", "amount")
    assert [m.label for m in custom.list_custom(services.store, viewer, "orders")] == ["X"]
    with pytest.raises(PermissionDenied):
        custom.delete(services.store, viewer, saved.id)
    custom.delete(services.store, analyst, saved.id)
    assert custom.list_custom(services.store, viewer, "orders") == []
    actions = [e.action for e in audit.list_events(services.store, SYSTEM)]
    assert actions[:2] == ["kpi.metric.delete", "kpi.metric.create"]


def test_targets_are_stored_per_period_and_replaced(services, make_user):
    analyst, viewer = make_user(Role.ANALYST), make_user(Role.VIEWER)
    first = targets.set_target(
        services.store, analyst, "orders", "revenue", "month", date(2024, 3, 17), 1000.0
    )
    assert first.period_start == date(2024, 3, 1)
    again = targets.set_target(
        services.store, analyst, "orders", "revenue", "month", date(2024, 3, 1), 1200.0
    )
    assert again.id == first.id
    listed = targets.list_targets(services.store, viewer, "orders")
    assert [(t.metric, t.period_start, t.value) for t in listed] == [
        ("revenue", date(2024, 3, 1), 1200.0)
    ]
    with pytest.raises(PermissionDenied):
        targets.set_target(services.store, viewer, "orders", "revenue", "month", date.today(), 1)
    with pytest.raises(UserInputError, match="finite"):
        targets.set_target(
            services.store, analyst, "orders", "x", "month", date.today(), float("inf")
        )
    targets.delete_target(services.store, analyst, first.id)
    assert targets.list_targets(services.store, viewer, "orders") == []


def test_url_params_round_trip_through_the_allow_list():
    state = views.ViewState(
        grain="month",
        preset="custom",
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
        metrics=("revenue", "custom:3"),
        filters=(("region", ("North", "South")),),
        breakdown="channel",
        top=5,
        focus="custom:3",
    )
    params = views.to_params(state)
    assert params == {
        "grain": "month",
        "preset": "custom",
        "start": "2024-01-01",
        "end": "2024-03-31",
        "metric": ["revenue", "custom:3"],
        "by": "channel",
        "top": "5",
        "focus": "custom:3",
        "f.region": ["North", "South"],
    }
    back, problems = views.from_params(
        params | {"utm_source": "mail", "dataset": "orders"},
        metrics=["revenue", "orders", "custom:3"],
        dimensions=["region", "channel"],
    )
    assert (back, problems) == (state, [])


def test_bad_url_values_are_reported_and_replaced_by_defaults():
    state, problems = views.from_params(
        {
            "grain": "hour",
            "preset": "custom",
            "start": "2024-02-30",
            "metric": ["revenue", "__import__('os')"],
            "by": "password",
            "top": "1e9",
            "f.secret": "x",
            "f.region": ["North"],
        },
        metrics=["revenue", "orders"],
        dimensions=["region"],
    )
    assert state == views.ViewState(metrics=("revenue",), filters=(("region", ("North",)),))
    assert problems == [
        "grain 'hour' is not one of day, week, month, quarter, year",
        "a custom range needs start and end dates (YYYY-MM-DD, start first)",
        "unknown metric(s) \"__import__('os')\"",
        "'password' is not a column to break down by",
        "top must be a whole number from 1 to 100",
        "'secret' is not a column to filter by",
    ]


def test_saved_views_belong_to_their_owner(services, make_user):
    alice, bob = make_user(Role.VIEWER), make_user(Role.VIEWER)
    state = views.ViewState(grain="day", filters=(("region", ("North",)),))
    saved = views.save_view(services.store, alice, "orders", "North daily", state)
    views.save_view(services.store, alice, "orders", "North daily", replace(state, grain="month"))
    views.save_view(services.store, alice, "other", "Elsewhere", state)
    (mine,) = views.list_views(services.store, alice, "orders")
    assert (mine.id, mine.name, mine.params["grain"]) == (saved.id, "North daily", "month")
    loaded, problems = views.from_params(
        mine.params, metrics=views.DEFAULT_METRICS, dimensions=["region"]
    )
    assert loaded == replace(state, grain="month") and problems == []
    assert views.list_views(services.store, bob) == []
    with pytest.raises(UserInputError, match="does not exist \\(or is not yours\\)"):
        views.delete_view(services.store, bob, saved.id)
    views.delete_view(services.store, alice, saved.id)
    assert [v.name for v in views.list_views(services.store, alice)] == ["Elsewhere"]
    with pytest.raises(UserInputError, match="1-100 characters"):
        views.save_view(services.store, alice, "orders", "  ", state)


def test_warehouse_credentials_need_a_key_and_are_encrypted(services, make_user, monkeypatch):
    admin = make_user(Role.ADMIN, email="root@example.com")
    url = "postgresql+psycopg://kpi:s3cret-pw@db.example.com/sales"
    with pytest.raises(UserInputError, match="set BEACON_SECRET_KEY"):
        warehouse.add_connection(
            services.store, services.settings, admin, "sales", url, check=False
        )
    monkeypatch.setenv("BEACON_SECRET_KEY", Fernet.generate_key().decode())
    settings = load_settings()
    analyst = make_user(Role.ANALYST)
    with pytest.raises(PermissionDenied):
        warehouse.add_connection(services.store, settings, analyst, "sales", url, check=False)
    conn = warehouse.add_connection(services.store, settings, admin, "sales", url, check=False)
    assert conn.display_url == "postgresql+psycopg://kpi:***@db.example.com/sales"
    with services.store.session() as s:
        stored = s.scalar(sa.select(WarehouseConnectionRow.url_encrypted))
    assert "s3cret" not in stored and "kpi" not in stored
    assert warehouse.connection_url(services.store, settings, analyst, conn.id) == url
    with pytest.raises(UserInputError, match="exists already"):
        warehouse.add_connection(services.store, settings, admin, "sales", url, check=False)
    with pytest.raises(UserInputError, match="not SQLite"):
        warehouse.add_connection(services.store, settings, admin, "lite", "sqlite:///x.db")
    with pytest.raises(UserInputError, match="not a SQLAlchemy URL"):
        warehouse.add_connection(services.store, settings, admin, "bad", "nonsense")
    events = audit.list_events(services.store, SYSTEM, action="warehouse.connection.add")
    assert "s3cret" not in str(events[0].detail)

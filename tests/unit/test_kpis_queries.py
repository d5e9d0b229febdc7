"""Known-answer tests of every KPI query, on DuckDB over Parquet and on PostgreSQL.

The answers below were worked out by hand from ORDERS (see the comments), not by the
code under test. The PostgreSQL run uses a real table through a registered-looking
warehouse source: the same statements, another engine.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from core.data.catalog import ColumnInfo
from core.data.duck import connect
from core.kpis import metrics as kpi_metrics
from core.kpis.base import EMPTY
from core.kpis.cohorts import cohorts
from core.kpis.periods import Window
from core.kpis.queries import breakdown, date_range, dimension_values, series, totals
from core.kpis.source import DuckRunner, EngineRunner, KpiSource

NAN = float("nan")
# date, order, customer, amount, quantity, unit cost, region, channel
ORDERS = [
    ("2023-12-31", "O1", "C1", 100.0, 2, 20.0, "North", "Online"),  # a Sunday: week 2023-W52
    ("2024-01-01", "O2", "C2", 50.0, 1, 30.0, "South", "Retail"),  # Monday of 2024-W01
    ("2024-01-01", "O2", "C2", 25.0, 1, 10.0, "South", "Retail"),  # second line of O2
    ("2024-01-15", "O3", "C1", 80.0, 4, 10.0, "North", "Retail"),  # C1's second order
    ("2024-02-29", "O4", "C3", 60.0, 3, 12.0, "North", "Online"),  # leap day
    ("2024-03-01", "O5", "C2", 40.0, 2, 5.0, "South", "Online"),  # C2's second order
    ("2024-05-10", "O6", "C4", 200.0, 5, 30.0, "East", "Online"),  # April has no rows
    ("2024-12-30", "O7", "C1", 30.0, 1, 10.0, "North", "Online"),  # Monday of 2025-W01
    ("2025-01-02", "O8", "C5", 70.0, 7, 4.0, "East", "Retail"),  # also 2025-W01
    ("2025-02-28", "O9", "C3", 90.0, 3, 15.0, "North", "Online"),  # C3's second order
    ("2025-03-01", "O10", "C6", 10.0, 1, 2.0, None, "Online"),  # no region
]
COLUMNS = [
    "order_date",
    "order_id",
    "customer_id",
    "amount",
    "quantity",
    "unit_cost",
    "region",
    "channel",
]
TYPES = ["DATE", "VARCHAR", "VARCHAR", "DOUBLE", "BIGINT", "DOUBLE", "VARCHAR", "VARCHAR"]
ROLES = ["date", "order_id", "customer_id", "amount", "quantity", "cost", "region", "channel"]
ALL = Window(date(2023, 12, 1), date(2025, 3, 31))
DUCKDB = pytest.param("duckdb", id="duckdb")
POSTGRES = pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)


def orders_frame() -> pd.DataFrame:
    frame = pd.DataFrame(ORDERS, columns=COLUMNS)
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame


def make_source(**where) -> KpiSource:
    columns = tuple(ColumnInfo(n, t, r) for n, t, r in zip(COLUMNS, TYPES, ROLES, strict=True))
    return KpiSource(name="orders", key="orders", columns=columns, **where)


def load_postgres(url: str) -> sa.Engine:
    """The orders as a PostgreSQL table with proper types."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "orders",
        meta,
        sa.Column("order_date", sa.Date),
        sa.Column("order_id", sa.String),
        sa.Column("customer_id", sa.String),
        sa.Column("amount", sa.Float),
        sa.Column("quantity", sa.Integer),
        sa.Column("unit_cost", sa.Float),
        sa.Column("region", sa.String),
        sa.Column("channel", sa.String),
    )
    meta.create_all(engine)
    with engine.begin() as connection:
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in ORDERS]  # None stays NULL
        for row in rows:
            row["order_date"] = date.fromisoformat(row["order_date"])
        connection.execute(table.insert(), rows)
    return engine


@pytest.fixture(params=[DUCKDB, POSTGRES])
def kpi(request, tmp_path):
    """(runner, source, metric catalog) over ORDERS on the requested backend."""
    if request.param == "duckdb":
        path = tmp_path / "orders.parquet"
        orders_frame().to_parquet(path)
        source = make_source(path=path)
        con = connect()
        yield DuckRunner(con, source), source, kpi_metrics.catalog(source)
        con.close()
        return
    engine = load_postgres(request.getfixturevalue("postgres_url"))
    source = make_source(table="orders", kind="warehouse")
    yield EngineRunner(engine, source), source, kpi_metrics.catalog(source)
    engine.dispose()


def values(frame: pd.DataFrame, column: str) -> list:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in frame[column]]


def test_totals_of_every_builtin_metric(kpi):
    runner, source, catalog = kpi
    keys = [
        "revenue",
        "orders",
        "customers",
        "aov",
        "units",
        "revenue_per_customer",
        "new_customers",
        "returning_customers",
        "repeat_rate",
        "gross_margin",
        "margin_pct",
        "cogs",
    ]
    got = totals(runner, source, [catalog[k] for k in keys], {"all": ALL}).loc["all"]
    expected = {
        "revenue": 755.0,  # 100+50+25+80+60+40+200+30+70+90+10
        "orders": 10,  # O1..O10 (O2 has two lines)
        "customers": 6,
        "aov": 75.5,
        "units": 30,  # 2+1+1+4+3+2+5+1+7+3+1
        "revenue_per_customer": 755 / 6,
        "new_customers": 6,  # everyone's first order is in the window
        "returning_customers": 0,
        "repeat_rate": 0.5,  # C1, C2, C3 ordered twice or more
        "gross_margin": 755 - 401,  # cost: 40+30+10+40+36+10+150+10+28+45+2 = 401
        "margin_pct": 354 / 755,
        "cogs": 401.0,
    }
    assert got["rows"] == 11
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key


def test_month_series_fills_empty_months_with_zero_or_a_gap(kpi):
    runner, source, catalog = kpi
    keys = ["revenue", "orders", "customers", "aov", "new_customers", "repeat_rate", "cogs"]
    got = series(
        runner,
        source,
        [catalog[k] for k in keys],
        "month",
        Window(date(2023, 12, 1), date(2024, 6, 30)),
    )
    assert got["label"].tolist() == [
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
    ]
    assert values(got, "revenue") == [100, 155, 60, 40, 0, 200, 0]
    assert values(got, "orders") == [1, 2, 1, 1, 0, 1, 0]
    assert values(got, "customers") == [1, 2, 1, 1, 0, 1, 0]
    assert values(got, "aov") == [100, 77.5, 60, 40, None, 200, None]  # no orders: a gap
    assert values(got, "new_customers") == [1, 1, 1, 0, 0, 1, 0]  # C2 is back in March
    # January: C1's row of 15 Jan is its second order; C2's second order is in March.
    assert values(got, "repeat_rate") == [0, 0.5, 0, 1, None, 0, None]
    assert values(got, "cogs") == [40, 80, 36, 10, 0, 150, 0]
    assert got["rows_present"].tolist() == [1, 3, 1, 1, 0, 1, 0]
    assert not got["partial"].any()


def test_weeks_cross_the_year_boundary(kpi):
    runner, source, catalog = kpi
    got = series(
        runner,
        source,
        [catalog["revenue"], catalog["customers"]],
        "week",
        Window(date(2024, 12, 23), date(2025, 1, 5)),
    )
    # 2024-12-30 (Monday) .. 2025-01-05 is ISO week 2025-W01: O7 (30) and O8 (70).
    assert got["period"].tolist() == [date(2024, 12, 23), date(2024, 12, 30)]
    assert got["label"].tolist() == ["2024-W52", "2025-W01"]
    assert values(got, "revenue") == [0, 100]
    assert values(got, "customers") == [0, 2]
    first = series(
        runner, source, [catalog["revenue"]], "week", Window(date(2023, 12, 25), date(2024, 1, 7))
    )
    assert first["label"].tolist() == ["2023-W52", "2024-W01"]
    assert values(first, "revenue") == [100, 75]


@pytest.mark.parametrize(
    ("grain", "window", "labels", "revenue"),
    [
        (
            "day",
            Window(date(2024, 2, 28), date(2024, 3, 1)),
            ["2024-02-28", "2024-02-29", "2024-03-01"],
            [0, 60, 40],
        ),
        (
            "quarter",
            Window(date(2024, 1, 1), date(2024, 12, 31)),
            ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"],
            [255, 200, 0, 30],
        ),
        ("year", ALL, ["2023", "2024", "2025"], [100, 485, 170]),
    ],
)
def test_each_grain(kpi, grain, window, labels, revenue):
    runner, source, catalog = kpi
    got = series(runner, source, [catalog["revenue"]], grain, window)
    assert got["label"].tolist() == labels
    assert values(got, "revenue") == revenue


def test_partial_periods_are_marked(kpi):
    runner, source, catalog = kpi
    got = series(
        runner, source, [catalog["revenue"]], "month", Window(date(2024, 1, 10), date(2024, 3, 1))
    )
    assert got["partial"].tolist() == [True, False, True]
    assert values(got, "revenue") == [80, 60, 40]  # only rows inside the window count


def test_filters_on_dimensions_and_missing_values(kpi):
    runner, source, catalog = kpi
    chosen = [catalog[k] for k in ("revenue", "orders", "customers")]
    north = totals(runner, source, chosen, {"all": ALL}, (("region", ("North",)),)).loc["all"]
    assert (north["revenue"], north["orders"], north["customers"]) == (360, 5, 2)
    both = (("channel", ("Retail",)), ("region", ("North", "South")))
    retail = totals(runner, source, chosen, {"all": ALL}, both).loc["all"]
    # Retail in North or South: O2 (50 + 25, C2) and O3 (80, C1); O8 is East.
    assert (retail["revenue"], retail["orders"], retail["customers"]) == (155, 2, 2)
    empty = totals(runner, source, chosen, {"all": ALL}, (("region", (EMPTY,)),)).loc["all"]
    assert (empty["revenue"], empty["orders"]) == (10, 1)
    none = totals(
        runner,
        source,
        [catalog["revenue"], catalog["aov"]],
        {"all": ALL},
        (("region", ("Nowhere",)),),
    ).loc["all"]
    assert none["revenue"] == 0 and math.isnan(none["aov"]) and none["rows"] == 0


def test_new_customers_follow_the_filters(kpi):
    runner, source, catalog = kpi
    north = (("region", ("North",)),)
    got = series(
        runner,
        source,
        [catalog["new_customers"], catalog["returning_customers"]],
        "year",
        ALL,
        north,
    )
    # North: C1 first 2023-12-31 (back in 2024 and 2025? no: 2024 only), C3 first 2024-02-29.
    assert values(got, "new_customers") == [1, 1, 0]
    assert values(got, "returning_customers") == [0, 1, 1]


def test_like_for_like_windows_in_one_query(kpi):
    runner, source, catalog = kpi
    windows = {
        "current": Window(date(2025, 2, 1), date(2025, 2, 28)),  # February 2025 to date
        "previous": Window(date(2025, 1, 1), date(2025, 1, 28)),  # same 28 days of January
        "last_year": Window(date(2024, 2, 1), date(2024, 2, 28)),  # excludes 29 Feb 2024
    }
    got = totals(runner, source, [catalog["revenue"], catalog["orders"]], windows)
    assert got["revenue"].tolist() == [90, 70, 0]
    assert got["orders"].tolist() == [1, 1, 0]


def test_breakdown_top_n_and_other(kpi):
    runner, source, catalog = kpi
    got = breakdown(runner, source, catalog["revenue"], "region", ALL, top=2)
    assert got.table["value"].tolist() == ["North", "East", "Other (2)"]
    assert got.table["revenue"].tolist() == [360, 270, 125]  # other: South 115 + (empty) 10
    assert got.table["share"].tolist() == pytest.approx([360 / 755, 270 / 755, 125 / 755])
    assert got.total == 755 and got.values_count == 4
    # Distinct counts do not add up: Other is recomputed over the remaining rows.
    customers = breakdown(runner, source, catalog["customers"], "region", ALL, top=1)
    assert customers.table["value"].tolist() == ["East", "Other (3)"]  # East ties North, by name
    assert customers.table["customers"].tolist() == [2, 4]  # C1, C2, C3, C6
    aov = breakdown(runner, source, catalog["aov"], "channel", ALL, top=5)
    assert dict(zip(aov.table["value"], aov.table["aov"], strict=True)) == pytest.approx(
        {"Online": 530 / 7, "Retail": 225 / 3}
    )


def test_dimension_values_with_counts(kpi):
    runner, source, _ = kpi
    got = dimension_values(runner, source, "region")
    assert list(zip(got["value"], got["rows"], strict=True)) == [
        ("North", 5),
        ("South", 3),
        ("East", 2),
        (EMPTY, 1),
    ]
    online = dimension_values(runner, source, "region", (("channel", ("Online",)),))
    assert dict(zip(online["value"], online["rows"], strict=True)) == {
        "North": 4,
        "East": 1,
        "South": 1,
        EMPTY: 1,
    }
    assert date_range(runner, source) == (date(2023, 12, 31), date(2025, 3, 1))


def test_cohort_retention(kpi):
    runner, source, _ = kpi
    got = cohorts(runner, source, ALL)
    table = got.table
    sizes = dict(zip(table["cohort"], table["size"], strict=True))
    assert sizes == {
        date(2023, 12, 1): 1,
        date(2024, 1, 1): 1,
        date(2024, 2, 1): 1,
        date(2024, 5, 1): 1,
        date(2025, 1, 1): 1,
        date(2025, 3, 1): 1,
    }
    active = table[table["cohort"] == date(2023, 12, 1)]
    assert active["offset"].tolist() == [0, 1, 12]  # C1: Dec 2023, Jan 2024, Dec 2024
    matrix = got.matrix
    assert list(matrix.columns) == list(range(16))  # Dec 2023 .. Mar 2025
    assert matrix.loc["2023-12"].tolist() == [1, 1] + [0] * 10 + [1, 0, 0, 0]
    assert matrix.loc["2024-01"].iloc[:3].tolist() == [1, 0, 1]  # C2 back in March
    assert matrix.loc["2025-03"].iloc[0] == 1 and matrix.loc["2025-03"].iloc[1:].isna().all()
    later = cohorts(runner, source, Window(date(2024, 2, 1), date(2025, 3, 31)))
    assert set(later.table["cohort"]) == {
        date(2024, 2, 1),
        date(2024, 5, 1),
        date(2025, 1, 1),
        date(2025, 3, 1),
    }

"""Warehouse mode end to end on PostgreSQL: register a connection (encrypted) and a table,
guess its roles, and get the same KPI answers as DuckDB over the dataset file."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from core.auth.roles import Role
from core.config import load_settings
from core.errors import IntegrationError, UserInputError
from core.kpis import dashboard, metrics, warehouse
from core.kpis.periods import Window
from core.kpis.queries import breakdown, totals
from core.kpis.source import EngineRunner
from tests.unit.test_kpis_queries import ALL, load_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("BEACON_SECRET_KEY", Fernet.generate_key().decode())
    return load_settings()


def test_register_a_postgres_table_and_query_it(services, make_user, postgres_url, key):
    load_postgres(postgres_url).dispose()
    admin = make_user(Role.ADMIN, email="root@example.com")
    viewer = make_user(Role.VIEWER)
    conn = warehouse.add_connection(services.store, key, admin, "sales", postgres_url)
    table = warehouse.add_table(services.store, key, admin, "sales", "orders", name="pg_orders")
    assert {c.name: c.role for c in table.columns} == {
        "order_date": "date",
        "order_id": "order_id",
        "customer_id": "customer_id",
        "amount": "amount",
        "quantity": "quantity",
        "unit_cost": "cost",
        "region": "region",
        "channel": "channel",
    }
    assert [t.name for t in warehouse.tables(services.store, viewer)] == ["pg_orders"]

    source = warehouse.get_table(services.store, viewer, "pg_orders").source()
    url = warehouse.connection_url(services.store, key, viewer, conn.id)
    engine = warehouse.open_engine(url)
    try:
        runner = EngineRunner(engine, source)
        catalog = metrics.catalog(source)
        got = totals(runner, source, [catalog["revenue"], catalog["aov"]], {"all": ALL})
        assert got.loc["all", "revenue"] == 755 and got.loc["all", "aov"] == 75.5
        cards = dashboard.cards(
            runner, source, [catalog["revenue"]], "mtd", Window(date(2025, 2, 1), date(2025, 2, 28))
        )
        assert [cards.cards[0].value] + [d.before for d in cards.cards[0].deltas] == [90, 70, 0]
        split = breakdown(runner, source, catalog["customers"], "region", ALL, top=1)
        assert split.table["customers"].tolist() == [2, 4]
    finally:
        engine.dispose()

    renamed = warehouse.set_table_roles(services.store, admin, "pg_orders", {"unit_cost": None})
    assert "cogs" not in metrics.catalog(renamed.source())
    assert renamed.source().key != source.key  # cached results of the old roles expire


def test_unreachable_or_missing_things_are_clear_errors(services, make_user, postgres_url, key):
    admin = make_user(Role.ADMIN, email="root@example.com")
    with pytest.raises(IntegrationError, match="Cannot reach warehouse 'down'"):
        warehouse.add_connection(
            services.store, key, admin, "down", "postgresql+psycopg://u:p@127.0.0.1:1/x"
        )
    warehouse.add_connection(services.store, key, admin, "sales", postgres_url)
    with pytest.raises(UserInputError, match="There is no table 'nothing' in warehouse 'sales'"):
        warehouse.add_table(services.store, key, admin, "sales", "nothing")
    warehouse.delete_connection(services.store, admin, "sales")
    assert warehouse.connections(services.store, admin) == []

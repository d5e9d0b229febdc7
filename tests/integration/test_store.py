"""The app-state store: one contract, run against SQLite and (when available) PostgreSQL.

PostgreSQL runs when BEACON_TEST_DATABASE_URL names a server (`make test` starts a
throwaway cluster and sets it); each test then gets a database of its own.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth import users
from core.auth.roles import Role, User
from core.config import load_settings
from core.data.catalog import Catalog
from core.errors import IntegrationError, NotFound, UserInputError
from core.store import Store, open_store
from core.store.db import MIGRATIONS, SQLITE_BUSY_TIMEOUT_MS
from core.store.models import Base, DatasetRow, DatasetVersionRow, UserRow
from tests.conftest import PASSWORD

# Read at import: the autouse `beacon_home` fixture removes every BEACON_* variable.
PG_URL = os.environ.get("BEACON_TEST_DATABASE_URL", "").strip()
PG_MISSING = "PostgreSQL not available: set BEACON_TEST_DATABASE_URL (make test starts one)"
SYSTEM = User.system()
TABLES = {"users", "datasets", "dataset_versions", "saved_views", "audit_log", "app_meta"}
SQLITE = pytest.param("sqlite", id="sqlite")
POSTGRES = pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)


def head_revisions() -> list[str]:
    """Every branch head (features add their own migration branches)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    # A branch that `depends_on` another's head absorbs it: the database records only
    # the dependent revision.
    needed = {d for h in heads for d in (script.get_revision(h).dependencies or ())}
    return sorted(heads - needed)


@pytest.fixture(params=[SQLITE, POSTGRES])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty database of the requested backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'beacon.db'}"
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def open_(database_url: str) -> Iterator[Callable[[], Store]]:
    """Open the store at `database_url` (migrating it); every engine is disposed afterwards."""
    opened: list[Store] = []

    def open_once() -> Store:
        store = open_store(database_url)
        opened.append(store)
        return store

    yield open_once
    for store in opened:
        store.engine.dispose()


@pytest.fixture
def store(open_: Callable[[], Store]) -> Store:
    return open_()


@pytest.fixture
def backend(store: Store) -> str:
    return store.engine.dialect.name


def version_in(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))


class TestStoreContract:
    """What Beacon needs of its store, on every supported backend."""

    def test_migrations_apply_and_are_idempotent(self, open_):
        first = open_()
        assert set(sa.inspect(first.engine).get_table_names()) >= TABLES
        assert sorted(version_in(first)) == head_revisions()
        with first.session() as s:
            s.add(UserRow(email="kept@example.com", role="viewer"))

        second = open_()  # migrating again is a no-op that keeps the data
        assert sorted(version_in(second)) == head_revisions()
        with second.session() as s:
            assert s.scalars(sa.select(UserRow.email)).all() == ["kept@example.com"]

    def test_migrated_schema_matches_the_models(self, store):
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []

    def test_create_and_list_users(self, store):
        admin = users.create_first_admin(store, "root@example.com", PASSWORD, "Root")
        analyst, temporary = users.create_user(store, admin, "ana@example.com", Role.ANALYST)
        assert temporary is not None
        listed = users.list_accounts(store, admin)
        assert [(a.user.email, a.user.role, a.must_change_password) for a in listed] == [
            ("ana@example.com", Role.ANALYST, True),
            ("root@example.com", Role.ADMIN, False),
        ]
        assert listed[0].user == analyst
        for account in listed:
            assert account.created_at.tzinfo is not None
            assert abs(account.created_at - datetime.now(UTC)) < timedelta(minutes=5)
        assert users.get_user(store, admin.id) == admin

    def test_email_is_unique(self, store):
        with store.session() as s:
            s.add(UserRow(email="dup@example.com", role="viewer"))
        with pytest.raises(IntegrityError), store.session() as s:
            s.add(UserRow(email="dup@example.com", role="admin"))
        with pytest.raises(UserInputError, match=r"An account for dup@example\.com already exists"):
            users.create_user(store, SYSTEM, "dup@example.com", Role.VIEWER, password=PASSWORD)
        with store.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(UserRow)) == 1

    def test_failed_transactions_roll_back(self, store):
        with pytest.raises(RuntimeError), store.session() as s:
            s.add(UserRow(email="gone@example.com", role="viewer"))
            s.flush()
            raise RuntimeError("boom")
        with store.session() as s:
            assert s.scalars(sa.select(UserRow)).all() == []

    def test_audit_events_round_trip(self, store):
        detail = {"version": 3, "names": ["a", "b"], "nested": {"ok": True, "none": None}}
        with store.session() as s:
            audit.record(s, SYSTEM, "dataset.ingest", "orders", **detail)
        with store.session() as s:
            audit.record(s, "ana@example.com", "dataset.delete", "orders")
        events = audit.list_events(store, SYSTEM)
        assert [(e.actor, e.action, e.target, e.detail) for e in events] == [
            ("ana@example.com", "dataset.delete", "orders", {}),
            ("system", "dataset.ingest", "orders", detail),
        ]
        only = audit.list_events(store, SYSTEM, action="dataset.ingest")
        assert [e.action for e in only] == ["dataset.ingest"]
        assert len(audit.list_events(store, SYSTEM, limit=1)) == 1

    @pytest.mark.parametrize(
        "database_url",
        [
            "sqlite",
            POSTGRES,
        ],
        indirect=True,
    )
    def test_audit_event_times_are_timezone_aware(self, store):
        before = datetime.now(UTC)
        with store.session() as s:
            audit.record(s, SYSTEM, "user.create", "x@example.com")
        after = datetime.now(UTC)
        (event,) = audit.list_events(store, SYSTEM)
        assert event.at.tzinfo is not None
        assert event.at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= event.at <= after + timedelta(seconds=1)

    def test_app_meta_get_and_set(self, store):
        assert store.get_meta("sample_loaded") is None
        store.set_meta("sample_loaded", "2026-01-01")
        assert store.get_meta("sample_loaded") == "2026-01-01"
        store.set_meta("sample_loaded", "x" * 5000)  # overwrites; values are unbounded text
        assert store.get_meta("sample_loaded") == "x" * 5000
        assert store.get_meta("other") is None

    def test_catalog_ingest_list_get_restore_delete(self, store, write_file):
        settings = load_settings()  # the datasets folder is under this test's BEACON_HOME
        catalog = Catalog(store, settings)
        header = "order_date,customer_id,amount\n"
        v1 = write_file("orders.csv", header + "2024-01-01,C1,5\n")
        v2 = write_file(
            "orders2.csv", header + "2024-01-01,C1,5\n2024-01-02,C2,6.5\n2024-01-03,C1,7\n"
        )

        first = catalog.ingest_file(SYSTEM, v1)
        assert (first.name, first.version, first.rows) == ("orders", 1, 1)
        assert first.roles == {
            "order_date": "date",
            "customer_id": "customer_id",
            "amount": "amount",
        }
        assert first.path.is_file() and first.path.is_relative_to(settings.datasets_dir)
        second = catalog.ingest_file(SYSTEM, v2, name="orders")
        assert (second.version, second.rows, second.version_count) == (2, 3, 2)
        assert second.created_at.tzinfo is not None and second.updated_at.tzinfo is not None

        assert [(d.name, d.version, d.version_count) for d in catalog.datasets(SYSTEM)] == [
            ("orders", 2, 2)
        ]
        assert [(v.version, v.rows, v.source_name) for v in catalog.versions(SYSTEM, "orders")] == [
            (2, 3, "orders2.csv"),
            (1, 1, "orders.csv"),
        ]
        restored = catalog.restore(SYSTEM, "orders", 1)
        assert (restored.version, restored.rows) == (1, 1)
        assert catalog.get(SYSTEM, "orders").version == 1

        catalog.delete(SYSTEM, "orders")
        assert catalog.datasets(SYSTEM) == []
        with pytest.raises(NotFound, match="No dataset named 'orders'"):
            catalog.get(SYSTEM, "orders")
        assert not first.path.exists() and not second.path.exists()
        with store.session() as s:
            assert s.scalars(sa.select(DatasetRow)).all() == []
            assert s.scalars(sa.select(DatasetVersionRow)).all() == []
        actions = [e.action for e in audit.list_events(store, SYSTEM)]
        assert actions == ["dataset.delete", "dataset.restore", "dataset.ingest", "dataset.ingest"]

    def test_deleting_a_dataset_row_cascades_to_its_versions(self, store, backend):
        # ON DELETE CASCADE in the database itself (SQLite needs foreign_keys=ON for this).
        with store.session() as s:
            dataset = DatasetRow(name="d", current_version=1, created_by="system")
            s.add(dataset)
            s.flush()
            s.add(
                DatasetVersionRow(
                    dataset_id=dataset.id,
                    version=1,
                    path="1/v1.parquet",
                    source_name="d.csv",
                    source_format="csv",
                    rows=1,
                    size_bytes=1,
                    columns=[],
                    created_by="system",
                )
            )
        with store.engine.begin() as connection:
            connection.execute(sa.delete(DatasetRow.__table__))
            left = connection.scalar(sa.text("SELECT count(*) FROM dataset_versions"))
        assert left == 0, backend


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path):
    path = tmp_path / "state" / "beacon.db"
    store = open_store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert SQLITE_BUSY_TIMEOUT_MS >= 5_000
        # WAL is a property of the file: another process's plain connection sees it too.
        with closing(sqlite3.connect(path)) as other:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.engine.dispose()


def test_bad_database_url_is_a_user_error():
    with pytest.raises(UserInputError, match="BEACON_DATABASE_URL is not a database URL"):
        open_store("not a url")


def test_unreachable_server_is_an_integration_error_without_the_password():
    url = "postgresql+psycopg://beacon:s3cret-pw@127.0.0.1:1/beacon"
    with pytest.raises(IntegrationError) as failed:
        open_store(url)
    message = str(failed.value)
    assert message.startswith("cannot reach the store at postgresql+psycopg://beacon:***@")
    assert "s3cret-pw" not in message
    assert "\n" not in message

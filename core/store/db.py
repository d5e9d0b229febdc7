"""Engine, sessions and migrations of the app-state store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import IntegrationError, UserInputError
from core.store import all_models  # noqa: F401  (every feature's tables in the metadata)
from core.store.models import MetaRow

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the app, the worker and the API read while one of them writes;
    # the busy timeout makes a writer wait for a lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _busy_writer_pragmas(dbapi_connection, _record) -> None:
    # A busy writer must not copy the WAL into the database inside its own commits
    # (each copy stalls that commit for 100-200 ms); `checkpoint` does it off the write
    # path. Its commits skip the fsync: in WAL mode a crash of Beacon loses nothing and
    # nothing is ever corrupted; a power cut may undo the last moments of its writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UserInputError(f"BEACON_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")  # features add their own migration branches
    except OperationalError as exc:
        raise IntegrationError(
            f"cannot reach the store at {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}"
        ) from exc


class Store:
    """The app-state database: hands out transactional sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session that holds the write lock from its start on SQLite (BEGIN IMMEDIATE).

        A SQLite transaction that reads first and writes later cannot wait for another
        writer: it fails with "database is locked". Read-modify-write work that several
        processes may do at once (the worker, the API, the app) starts here instead.
        PostgreSQL needs nothing more than its row locks.
        """
        with self.session() as session:
            if self.engine.dialect.name == "sqlite":
                session.execute(text("BEGIN IMMEDIATE"))
            yield session

    def get_meta(self, key: str) -> str | None:
        """Read an installation fact."""
        with self.session() as s:
            row = s.scalar(select(MetaRow).where(MetaRow.key == key))
            return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Write an installation fact."""
        with self.session() as s:
            s.merge(MetaRow(key=key, value=value))


def is_sqlite_file(store: Store) -> bool:
    """Whether the store is a SQLite database file (not PostgreSQL, not in memory)."""
    url = store.engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def busy_writer(store: Store) -> Store:
    """A store for one thread that writes many small transactions (the heartbeat writer).

    On a SQLite file it has its own connection that never checkpoints the WAL on commit
    (whoever uses it calls `checkpoint` from another thread) and commits without fsync
    (synchronous=NORMAL, SQLite's advice for WAL). Elsewhere it is `store`.
    """
    if not is_sqlite_file(store):
        return store
    engine = make_engine(store.engine.url.render_as_string(hide_password=False))
    event.listen(engine, "connect", _busy_writer_pragmas)
    return Store(engine)


def checkpoint(store: Store) -> None:
    """Copy what it can of the SQLite WAL into the database without waiting for anyone."""
    if is_sqlite_file(store):
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def open_store(url: str) -> Store:
    """Connect to the store at `url` and apply pending migrations."""
    engine = make_engine(url)
    migrate(engine)
    return Store(engine)

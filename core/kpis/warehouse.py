"""Warehouse mode: tables in an external SQLAlchemy database as KPI sources.

An admin registers a connection (a SQLAlchemy URL); its URL, credentials included, is
stored encrypted with Fernet under BEACON_SECRET_KEY (core.secrets_box), and Beacon
refuses to store one without that key. A registered table gets column roles like
a dataset (guessed from its column names and types, then editable), and the KPI queries
run on it unchanged through `EngineRunner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from core import audit
from core.auth.roles import Role, User, require
from core.config import Settings
from core.data.catalog import ColumnInfo, check_name
from core.data.roles import guess_roles, validate_roles
from core.errors import IntegrationError, NotFound, UserInputError
from core.kpis.models import WarehouseConnectionRow, WarehouseTableRow
from core.kpis.source import KpiSource
from core.secrets_box import SecretBox
from core.store import Store
from core.store.models import as_utc, utcnow

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 120_000


@dataclass(frozen=True, slots=True)
class Connection:
    """A registered warehouse connection (its URL is shown with the password hidden)."""

    id: int
    name: str
    display_url: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WarehouseTable:
    """A warehouse table registered as a KPI source."""

    id: int
    name: str
    connection: str
    connection_id: int
    schema: str | None
    table: str
    columns: tuple[ColumnInfo, ...]
    updated_at: datetime

    def source(self) -> KpiSource:
        return KpiSource(
            name=self.name,
            key=f"warehouse:{self.id}:{self.updated_at.isoformat()}",
            columns=self.columns,
            schema=self.schema,
            table=self.table,
            kind="warehouse",
        )


def _parse(url: str) -> sa.URL:
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise UserInputError(
            "That is not a SQLAlchemy URL: write it like postgresql+psycopg://user:pass@host/db."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        raise UserInputError("Use a server database (e.g. PostgreSQL) as a warehouse, not SQLite.")
    return parsed


def open_engine(url: str) -> sa.Engine:
    """An engine with a connect timeout and, on PostgreSQL, a statement time limit."""
    parsed = _parse(url)
    connect_args: dict = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise UserInputError(f"No database driver for {parsed.drivername!r} is installed.") from exc


def _check(engine: sa.Engine, name: str) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise IntegrationError(f"Cannot reach warehouse {name!r}: {reason}") from exc


def add_connection(
    store: Store, settings: Settings, user: User, name: str, url: str, *, check: bool = True
) -> Connection:
    """Register a warehouse connection: checked, then stored with its URL encrypted."""
    require(user, Role.ADMIN, "Adding warehouse connections")
    name = check_name(name)
    box = SecretBox.from_settings(settings)
    if not box.available:
        box.encrypt("")  # refuses, saying how to set BEACON_SECRET_KEY
    parsed = _parse(url)
    if check:
        engine = open_engine(url)
        try:
            _check(engine, name)
        finally:
            engine.dispose()
    token = box.encrypt(parsed.render_as_string(hide_password=False))
    try:
        with store.session() as s:
            row = WarehouseConnectionRow(
                name=name,
                url_encrypted=token,
                display_url=parsed.render_as_string(hide_password=True)[:500],
                created_by=user.email,
            )
            s.add(row)
            s.flush()
            audit.record(s, user, "warehouse.connection.add", name, url=row.display_url)
            return Connection(
                row.id, row.name, row.display_url, row.created_by, as_utc(row.created_at)
            )
    except IntegrityError:
        raise UserInputError(f"A warehouse connection called {name!r} exists already.") from None


def connections(store: Store, user: User) -> list[Connection]:
    """Registered connections, by name (URLs with passwords hidden)."""
    require(user, Role.ADMIN, "Listing warehouse connections")
    with store.session() as s:
        rows = s.scalars(select(WarehouseConnectionRow).order_by(WarehouseConnectionRow.name))
        return [
            Connection(r.id, r.name, r.display_url, r.created_by, as_utc(r.created_at))
            for r in rows
        ]


def delete_connection(store: Store, user: User, name: str) -> None:
    """Remove a connection and the tables registered on it."""
    require(user, Role.ADMIN, "Removing warehouse connections")
    with store.session() as s:
        row = s.scalar(select(WarehouseConnectionRow).where(WarehouseConnectionRow.name == name))
        if row is None:
            raise NotFound(f"No warehouse connection named {name!r}.")
        s.execute(sa.delete(WarehouseTableRow).where(WarehouseTableRow.connection_id == row.id))
        s.delete(row)
        audit.record(s, user, "warehouse.connection.delete", name)


def connection_url(store: Store, settings: Settings, user: User, connection_id: int) -> str:
    """The decrypted URL of a connection, for opening an engine (never shown to people)."""
    require(user, Role.VIEWER, "Querying warehouse tables")
    with store.session() as s:
        row = s.get(WarehouseConnectionRow, connection_id)
        if row is None:
            raise NotFound(f"No warehouse connection with id {connection_id}.")
        token = row.url_encrypted
    return SecretBox.from_settings(settings).decrypt(token)


def _type_name(sql_type: sa.types.TypeEngine) -> str:
    """A DuckDB-style type name for role guessing and query building."""
    checks = (
        (sa.DateTime, "TIMESTAMP"),
        (sa.Date, "DATE"),
        (sa.Boolean, "BOOLEAN"),
        (sa.Integer, "BIGINT"),
        (sa.Numeric, "DOUBLE"),
        (sa.Float, "DOUBLE"),
    )
    for kind, name in checks:
        if isinstance(sql_type, kind):
            return name
    return "VARCHAR"


def _row_to_table(row: WarehouseTableRow, connection: str) -> WarehouseTable:
    return WarehouseTable(
        row.id,
        row.name,
        connection,
        row.connection_id,
        row.schema_name,
        row.table_name,
        tuple(ColumnInfo(**c) for c in row.columns),
        as_utc(row.updated_at),
    )


def add_table(
    store: Store,
    settings: Settings,
    user: User,
    connection: str,
    table: str,
    *,
    schema: str | None = None,
    name: str | None = None,
) -> WarehouseTable:
    """Register `schema.table` of a connection as a KPI source, with guessed column roles."""
    require(user, Role.ADMIN, "Registering warehouse tables")
    name = check_name(name or table)
    with store.session() as s:
        conn = s.scalar(
            select(WarehouseConnectionRow).where(WarehouseConnectionRow.name == connection)
        )
        if conn is None:
            raise NotFound(f"No warehouse connection named {connection!r}.")
        conn_id = conn.id
    engine = open_engine(connection_url(store, settings, user, conn_id))
    try:
        reflected = sa.inspect(engine).get_columns(table, schema=schema or None)
    except sa.exc.NoSuchTableError:
        raise UserInputError(f"There is no table {table!r} in warehouse {connection!r}.") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise IntegrationError(f"Cannot read table {table!r} in {connection!r}: {reason}") from exc
    finally:
        engine.dispose()
    if not reflected:
        raise UserInputError(f"There is no table {table!r} in warehouse {connection!r}.")
    typed = [(c["name"], _type_name(c["type"])) for c in reflected]
    roles = guess_roles(typed)
    columns = [{"name": n, "type": t, "role": roles[n]} for n, t in typed]
    try:
        with store.session() as s:
            row = WarehouseTableRow(
                name=name,
                connection_id=conn_id,
                schema_name=schema or None,
                table_name=table,
                columns=columns,
                created_by=user.email,
            )
            s.add(row)
            s.flush()
            audit.record(s, user, "warehouse.table.add", name, connection=connection, table=table)
            return _row_to_table(row, connection)
    except IntegrityError:
        raise UserInputError(f"A warehouse table called {name!r} is registered already.") from None


def tables(store: Store, user: User) -> list[WarehouseTable]:
    """Registered warehouse tables, by name."""
    require(user, Role.VIEWER, "Reading warehouse tables")
    with store.session() as s:
        rows = s.execute(
            select(WarehouseTableRow, WarehouseConnectionRow.name)
            .join(WarehouseConnectionRow)
            .order_by(WarehouseTableRow.name)
        )
        return [_row_to_table(r, conn) for r, conn in rows]


def get_table(store: Store, user: User, name: str) -> WarehouseTable:
    """One registered warehouse table by name."""
    for table in tables(store, user):
        if table.name == name:
            return table
    raise NotFound(f"No warehouse table named {name!r}.")


def set_table_roles(
    store: Store, user: User, name: str, roles: dict[str, str | None]
) -> WarehouseTable:
    """Change the column roles of a registered warehouse table."""
    require(user, Role.ANALYST, "Editing column roles")
    with store.session() as s:
        row = s.scalar(select(WarehouseTableRow).where(WarehouseTableRow.name == name))
        if row is None:
            raise NotFound(f"No warehouse table named {name!r}.")
        types = {c["name"]: c["type"] for c in row.columns}
        merged = {c["name"]: c.get("role") for c in row.columns} | dict(roles)
        validate_roles(merged, types)
        row.columns = [{"name": c, "type": types[c], "role": merged[c]} for c in types]
        row.updated_at = utcnow()
        audit.record(s, user, "warehouse.table.set_roles", name, roles=dict(roles))
    return get_table(store, user, name)


def delete_table(store: Store, user: User, name: str) -> None:
    """Unregister a warehouse table (the table itself is untouched)."""
    require(user, Role.ADMIN, "Removing warehouse tables")
    with store.session() as s:
        row = s.scalar(select(WarehouseTableRow).where(WarehouseTableRow.name == name))
        if row is None:
            raise NotFound(f"No warehouse table named {name!r}.")
        s.delete(row)
        audit.record(s, user, "warehouse.table.delete", name)

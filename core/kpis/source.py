"""Where KPI rows come from, and how a SQLAlchemy statement runs there.

A `KpiSource` is a dataset-like thing with columns and roles: a catalog dataset (an
immutable Parquet file read by DuckDB) or a table in a registered warehouse. Queries are
SQLAlchemy Core statements over `runner.table()`; the same statement runs on either:

- `DuckRunner` compiles it for DuckDB (PostgreSQL's SQL with `?` parameters) over
  `read_parquet(?)`, the file path a bound value like every other value;
- `EngineRunner` executes it on a SQLAlchemy engine over the warehouse table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.data.catalog import ColumnInfo, Dataset
from core.data.duck import first_line
from core.data.roles import NUMERIC, TEMPORAL, kind_of
from core.errors import IntegrationError, UserInputError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KpiSource:
    """Rows to compute KPIs over: columns with roles, and where the rows live.

    `key` changes whenever the rows may have changed (a dataset version's file path, a
    warehouse table's registration time), so caches keyed on it stay correct.
    """

    name: str
    key: str
    columns: tuple[ColumnInfo, ...]
    path: Path | None = None
    schema: str | None = None
    table: str | None = None
    kind: str = "dataset"

    @property
    def roles(self) -> dict[str, str | None]:
        return {c.name: c.role for c in self.columns}

    def column_for(self, role: str) -> str | None:
        """The column holding `role`, if any."""
        return next((c.name for c in self.columns if c.role == role), None)

    def column(self, name: str) -> ColumnInfo:
        """The column called `name`, or a UserInputError naming the dataset."""
        for column in self.columns:
            if column.name == name:
                return column
        raise UserInputError(f"There is no column {name!r} in {self.name}.")

    def kind_of(self, name: str) -> str:
        return kind_of(self.column(name).type)


def from_dataset(dataset: Dataset) -> KpiSource:
    """A catalog dataset (the version it carries) as a KPI source."""
    return KpiSource(
        name=dataset.name,
        key=str(dataset.path),
        columns=dataset.columns,
        path=dataset.path,
        kind="dataset",
    )


def sql_type(column: ColumnInfo) -> sa.types.TypeEngine:
    """The SQLAlchemy type standing for a column's DuckDB-style type name."""
    kind = kind_of(column.type)
    if kind == TEMPORAL:
        return sa.Date() if column.type.upper() == "DATE" else sa.DateTime()
    if kind == NUMERIC:
        return sa.Float()
    if column.type.upper() == "BOOLEAN":
        return sa.Boolean()
    return sa.String()


class DuckDBDialect(PGDialect):
    """PostgreSQL's SQL compiler with DuckDB's `?` parameters (DuckDB speaks this SQL)."""

    name = "duckdb"
    supports_statement_cache = False

    def __init__(self, **kwargs) -> None:
        super().__init__(paramstyle="qmark", **kwargs)


_DUCKDB = DuckDBDialect()


def compile_duckdb(statement: sa.Executable) -> tuple[str, list]:
    """SQL text with `?` placeholders and its parameters in order."""
    compiled = statement.compile(dialect=_DUCKDB, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    return compiled.string, [params[name] for name in compiled.positiontup or ()]


class Runner(Protocol):
    """Runs statements over one source's rows."""

    def table(self) -> sa.FromClause: ...

    def frame(self, statement: sa.Executable) -> pd.DataFrame: ...


def _columns(source: KpiSource) -> list[sa.ColumnClause]:
    return [sa.column(c.name, sql_type(c)) for c in source.columns]


class DuckRunner:
    """Statements compiled for DuckDB over the source's Parquet file."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, source: KpiSource) -> None:
        if source.path is None:
            raise UserInputError(f"{source.name} is not a dataset file.")
        self.cursor = cursor
        self.source = source

    def table(self) -> sa.FromClause:
        path = sa.bindparam("parquet_path", str(self.source.path), type_=sa.String())
        return sa.func.read_parquet(path).table_valued(*_columns(self.source)).alias("src")

    def frame(self, statement: sa.Executable) -> pd.DataFrame:
        sql, params = compile_duckdb(statement)
        try:
            return self.cursor.execute(sql, params).df()
        except duckdb.IOException as exc:
            raise UserInputError(
                f"Cannot read the file of {self.source.name}: {first_line(exc)}"
            ) from exc
        except duckdb.Error as exc:
            log.warning("DuckDB query failed: %s\n%s", exc, sql)
            raise UserInputError(
                f"The query over {self.source.name} failed: {first_line(exc)}"
            ) from exc


class EngineRunner:
    """Statements executed on a SQLAlchemy engine over the source's warehouse table."""

    def __init__(self, engine: sa.Engine, source: KpiSource) -> None:
        if source.table is None:
            raise UserInputError(f"{source.name} is not a warehouse table.")
        self.engine = engine
        self.source = source

    def table(self) -> sa.FromClause:
        table = sa.table(self.source.table, *_columns(self.source), schema=self.source.schema)
        return table.alias("src")

    def frame(self, statement: sa.Executable) -> pd.DataFrame:
        try:
            with self.engine.connect() as connection:
                result = connection.execute(statement)
                return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise IntegrationError(
                f"The warehouse query over {self.source.name} failed: {reason}"
            ) from exc
        except SQLAlchemyError as exc:
            raise IntegrationError(
                f"The warehouse query over {self.source.name} failed: {exc}"
            ) from exc

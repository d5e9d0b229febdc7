"""Query steps: one read-only SELECT over catalog datasets, by name.

Each query gets a private in-memory DuckDB connection with a view per dataset the SQL
names (`select sum(amount) from sample_orders`), over that dataset's current Parquet
file. Then file access is narrowed to exactly those files, external access is switched
off and the configuration locked, so the SQL can read nothing else; it must be a single
SELECT (or WITH ... SELECT) statement. Rows are capped.
"""

from __future__ import annotations

import math
import operator as op
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pandas as pd
from pydantic import Field

from core.data import duck
from core.errors import UserInputError
from core.workflows.tasks.base import Params, StepContext, TaskType, register

OPERATORS = {"<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge, "==": op.eq, "!=": op.ne}


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Rows of a query (at most the cap), its columns, and whether rows were cut."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    datasets: tuple[str, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=list(self.columns))


def json_value(value: Any) -> Any:
    """A query value as JSON: dates as ISO text, decimals as numbers, NaN as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def _check_single_select(con, sql: str) -> None:
    try:
        statements = con.extract_statements(sql)
    except Exception as exc:  # duckdb.ParserException and friends
        raise UserInputError(f"The SQL does not parse: {duck.first_line(exc)}") from None
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        found = ", ".join(kinds) or "nothing"
        raise UserInputError(
            f"A query runs exactly one SELECT (or WITH ... SELECT) statement; found {found}."
        )


def run_select(ctx: StepContext, sql: str, max_rows: int) -> QueryResult:
    """Run one read-only SELECT over the catalog's datasets; at most `max_rows` rows."""
    catalog = ctx.services.catalog
    lowered = sql.lower()
    datasets = [d for d in catalog.datasets(ctx.user) if d.name.lower() in lowered]
    con = catalog.connect()
    try:
        _check_single_select(con, sql)
        for dataset in datasets:
            con.read_parquet(str(dataset.path)).create_view(dataset.name)
        con.execute("SET allowed_paths = ?", [[str(d.path) for d in datasets]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            result = con.execute(sql)
            columns = tuple(d[0] for d in result.description or ())
            rows = result.fetchmany(max_rows + 1)
        except Exception as exc:  # duckdb.Error: the user's SQL failed
            raise UserInputError(f"The query failed: {duck.first_line(exc)}") from None
    finally:
        con.close()
    ctx.log(f"query over {', '.join(d.name for d in datasets) or 'no dataset'}: {len(rows)} rows")
    return QueryResult(
        columns=columns,
        rows=tuple(rows[:max_rows]),
        truncated=len(rows) > max_rows,
        datasets=tuple(d.name for d in datasets),
    )


# --- query -------------------------------------------------------------------------------


class QueryParams(Params):
    sql: str = Field(
        title="SQL",
        description="One SELECT over datasets by name, e.g. select sum(amount) from sample_orders",
        json_schema_extra={"multiline": True},
    )
    max_rows: int = Field(
        1000, ge=1, le=100_000, title="Most rows", description="Rows kept in the output"
    )


def run_query(ctx: StepContext, params: QueryParams) -> dict[str, Any]:
    result = run_select(ctx, params.sql, params.max_rows)
    rows = [
        {c: json_value(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows
    ]
    return {
        "columns": list(result.columns),
        "rows": rows,
        "row_count": len(rows),
        "truncated": result.truncated,
    }


register(
    TaskType(
        name="query",
        label="Query",
        help="Run one read-only SQL SELECT over catalog datasets (by name); rows become output.",
        params=QueryParams,
        run=run_query,
    )
)


# --- KPI check ---------------------------------------------------------------------------


def check_metric(ctx: StepContext, sql: str, operator: str, threshold: float) -> dict[str, Any]:
    """Evaluate a one-value query against a threshold: {value, operator, threshold, passed}."""
    result = run_select(ctx, sql, 1)
    if not result.rows or not result.columns:
        raise UserInputError("The metric query returned no rows: it must return one value.")
    value = json_value(result.rows[0][0])
    if value is None:
        passed = False
    elif isinstance(value, int | float):
        passed = bool(OPERATORS[operator](value, threshold))
    else:
        raise UserInputError(f"The metric query must return a number, got {value!r}.")
    ctx.log(f"{result.columns[0]} = {value} {operator} {threshold:g}: {passed}")
    return {
        "metric": result.columns[0],
        "value": value,
        "operator": operator,
        "threshold": threshold,
        "passed": passed,
    }

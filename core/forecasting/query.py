"""Aggregating raw rows to one value per series and period, in DuckDB.

Works on a catalog dataset (its Parquet file) or on a DataFrame registered with the
connection. Identifiers are quoted, every user value is a bound parameter, and the
aggregate functions come from a fixed registry, so nothing typed by a user reaches
the SQL text. (Ruff's S608 cannot tell; each query below was reviewed for that.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from core.data.duck import first_line, quote_ident
from core.errors import UserInputError
from core.forecasting import frequency
from core.forecasting.frequency import Frequency

# Column names of the aggregated frame.
ID, DS, Y, ROWS = "id", "ds", "y", "rows"
TOTAL = "(total)"


@dataclass(frozen=True, slots=True)
class Aggregation:
    """How the rows of one period become its value."""

    name: str
    label: str
    sql: str  # a template over {v} (value) and {d} (timestamp)
    nature: str  # "flow": an empty period is 0; "level": an empty period is unknown


AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a
    for a in (
        Aggregation("sum", "Sum", "sum({v})", "flow"),
        Aggregation("count", "Count of rows", "count({v})", "flow"),
        Aggregation("mean", "Mean", "avg({v})", "level"),
        Aggregation("last", "Last value", "arg_max({v}, {d})", "level"),
        Aggregation("max", "Maximum", "max({v})", "level"),
        Aggregation("min", "Minimum", "min({v})", "level"),
    )
}


def aggregation(name: str) -> Aggregation:
    """The aggregation called `name`."""
    try:
        return AGGREGATIONS[name]
    except KeyError:
        raise UserInputError(
            f"Unknown aggregation {name!r}: choose one of {', '.join(AGGREGATIONS)}."
        ) from None


@dataclass(frozen=True, slots=True)
class Source:
    """A relation to read from: SQL text of a table expression plus its bound parameters."""

    sql: str
    params: Mapping[str, object]
    columns: Mapping[str, str]  # name -> DuckDB type

    @classmethod
    def parquet(cls, con, path: str) -> Source:
        """A dataset version's Parquet file."""
        source = cls("read_parquet($path)", {"path": path}, {})
        described = con.execute(f"DESCRIBE SELECT * FROM {source.sql}", source.params).fetchall()  # noqa: S608
        return cls(source.sql, source.params, {row[0]: row[1] for row in described})

    @classmethod
    def frame(cls, con, frame: pd.DataFrame, name: str = "forecast_input") -> Source:
        """A DataFrame registered with the connection under `name`."""
        con.register(name, frame)
        described = con.execute(f"DESCRIBE SELECT * FROM {quote_ident(name)}").fetchall()  # noqa: S608
        return cls(quote_ident(name), {}, {row[0]: row[1] for row in described})


def _check_column(source: Source, column: str | None, what: str) -> None:
    if column is not None and column not in source.columns:
        raise UserInputError(f"There is no {what} column {column!r} in the data.")


def _timestamp(source: Source, column: str) -> str:
    q = quote_ident(column)
    kind = source.columns[column].upper()
    if kind.startswith(("DATE", "TIMESTAMP")):
        return f"CAST({q} AS TIMESTAMP)"
    return f"TRY_CAST({q} AS TIMESTAMP)"


def _number(source: Source, column: str) -> str:
    q = quote_ident(column)
    if source.columns[column].upper() == "BOOLEAN":
        return f"CAST({q} AS DOUBLE)"
    return f"TRY_CAST({q} AS DOUBLE)"


def _where(source: Source, filters: Mapping[str, Sequence[object]], params: dict) -> str:
    clauses = []
    for i, (column, values) in enumerate(filters.items()):
        _check_column(source, column, "filter")
        params[f"f{i}"] = [str(v) for v in values]
        clauses.append(f"CAST({quote_ident(column)} AS VARCHAR) IN (SELECT unnest($f{i}))")
    return " AND ".join(clauses) or "TRUE"


def check_types(con, source: Source, date_col: str, value_col: str | None) -> None:
    """Refuse text that is not a date or a number, naming a value that failed."""
    _check_column(source, date_col, "date")
    _check_column(source, value_col, "value")
    checks = [(date_col, _timestamp(source, date_col), "dates")]
    if value_col is not None:
        checks.append((value_col, _number(source, value_col), "numbers"))
    for column, expression, kind in checks:
        q = quote_ident(column)
        bad = con.execute(
            f"SELECT CAST({q} AS VARCHAR) FROM {source.sql} "  # noqa: S608
            f"WHERE {q} IS NOT NULL AND {expression} IS NULL LIMIT 1",
            dict(source.params),
        ).fetchall()  # fetch everything: DuckDB keeps a half-read result open
        if bad:
            bad = bad[0]
            raise UserInputError(
                f"Column {column!r} must hold {kind}, but it has {bad[0]!r}: "
                "choose another column or fix the data."
            )


def detect_frequency(con, source: Source, date_col: str) -> Frequency:
    """The frequency matching the median gap between distinct timestamps."""
    ts = _timestamp(source, date_col)
    rows = con.execute(
        f"SELECT median(gap) FROM (SELECT epoch(d) - epoch(lag(d) OVER (ORDER BY d)) AS gap "  # noqa: S608
        f"FROM (SELECT DISTINCT {ts} AS d FROM {source.sql} WHERE {ts} IS NOT NULL))",
        dict(source.params),
    ).fetchall()
    row = rows[0] if rows else None
    if row is None or row[0] is None:
        raise UserInputError(
            f"Column {date_col!r} needs at least two distinct dates to detect a frequency."
        )
    return frequency.from_gap(float(row[0]) / 86_400)


def aggregate(
    con,
    source: Source,
    *,
    date_col: str,
    value_col: str | None,
    freq: Frequency,
    agg: str = "sum",
    id_col: str | None = None,
    exog_cols: Sequence[str] = (),
    filters: Mapping[str, Sequence[object]] | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """One row per series and period: id, ds, y, rows (input rows in it), and exog means.

    `value_col=None` counts rows. `top` keeps the series with the largest total |y|.
    """
    how = aggregation("count" if value_col is None else agg)
    check_types(con, source, date_col, value_col)
    _check_column(source, id_col, "series id")
    for column in exog_cols:
        _check_column(source, column, "regressor")
    params: dict[str, object] = dict(source.params) | {"unit": freq.trunc}
    ts = _timestamp(source, date_col)
    value = "1" if value_col is None else _number(source, value_col)
    series = f"CAST({quote_ident(id_col)} AS VARCHAR)" if id_col else "$total"
    if not id_col:
        params["total"] = TOTAL
    exog = "".join(f", avg({_number(source, c)}) AS {quote_ident('x_' + c)}" for c in exog_cols)
    where = _where(source, filters or {}, params)
    sql = (
        f"SELECT {series} AS {ID}, date_trunc($unit, {ts}) AS {DS}, "  # noqa: S608
        f"{how.sql.format(v=value, d=ts)} AS {Y}, count(*) AS {ROWS}{exog} "
        f"FROM {source.sql} WHERE {ts} IS NOT NULL AND ({where}) "
        f"GROUP BY ALL"
    )
    if top:
        params["top"] = int(top)
        sql = (
            f"WITH periods AS ({sql}), keep AS (SELECT {ID} FROM periods GROUP BY {ID} "  # noqa: S608
            f"ORDER BY sum(abs(coalesce({Y}, 0))) DESC, {ID} LIMIT $top) "
            f"SELECT * FROM periods WHERE {ID} IN (SELECT {ID} FROM keep)"
        )
    try:
        frame = con.execute(f"{sql} ORDER BY {ID}, {DS}", params).df()
    except duckdb.Error as exc:
        raise UserInputError(f"Could not aggregate the data: {first_line(exc)}") from exc
    frame[ID] = frame[ID].fillna("(empty)").astype(str)
    frame[DS] = pd.to_datetime(frame[DS])
    frame = frame.rename(columns={f"x_{c}": c for c in exog_cols})
    return _complete_only(con, source, ts, freq, frame)


def _complete_only(con, source: Source, ts: str, freq: Frequency, frame: pd.DataFrame):
    """Drop a first or last period the data cover only in part, and say so.

    A month whose data stop on the 12th looks like a collapse in sales; forecasting from
    it would be wrong. Data already dated on period starts (one row per month on the
    1st) stand for whole periods and are kept. The notes are left in
    `frame.attrs["notes"]`.
    """
    frame.attrs["notes"] = []
    if freq.name == "daily" or frame.empty:
        return frame
    rows = con.execute(
        f"SELECT min({ts}), max({ts}), count(*) FILTER (WHERE date_trunc($unit, {ts}) <> {ts}) "  # noqa: S608
        f"FROM {source.sql}",
        dict(source.params) | {"unit": freq.trunc},
    ).fetchall()
    first, last = (pd.Timestamp(v).normalize() for v in rows[0][:2])
    starts = sorted(frame[DS].unique())
    if rows[0][2] == 0 or len(starts) < 4:  # aligned to period starts, or too little data
        return frame
    notes = []
    drop = []
    if first > starts[0]:
        drop.append(starts[0])
        notes.append(
            f"The first period ({starts[0]:%Y-%m-%d}) is incomplete (the data start on "
            f"{first:%Y-%m-%d}) and was left out."
        )
    period_end = freq.range(starts[-1], 2)[1] - pd.Timedelta(days=1)
    if last < period_end:
        drop.append(starts[-1])
        notes.append(
            f"The last period ({starts[-1]:%Y-%m-%d}) is incomplete (the data end on "
            f"{last:%Y-%m-%d}) and was left out."
        )
    frame = frame[~frame[DS].isin(drop)].reset_index(drop=True)
    frame.attrs["notes"] = notes
    return frame

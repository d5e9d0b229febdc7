"""Profiles and previews of a dataset version, computed by DuckDB over its Parquet file."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.data.catalog import Dataset
from core.data.duck import quote_ident
from core.data.roles import NUMERIC, TEMPORAL, kind_of
from core.errors import UserInputError

HISTOGRAM_BINS = 30
TOP_VALUES = 10


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    """Dataset-level facts and one summary row per column.

    `columns` has: column, type, role, nulls, null_pct, distinct (approximate), min, max,
    mean, std.
    """

    rows: int
    duplicate_rows: int
    date_column: str | None
    date_min: pd.Timestamp | None
    date_max: pd.Timestamp | None
    columns: pd.DataFrame


@dataclass(frozen=True, slots=True)
class ColumnDetail:
    """Top values (value, count, share) and a histogram (bin_start, bin_end, count)."""

    column: str
    kind: str
    top_values: pd.DataFrame
    histogram: pd.DataFrame


def _source() -> str:
    return "read_parquet($path)"


def profile(con, dataset: Dataset) -> DatasetProfile:
    """Summarise every column and count duplicate rows."""
    params = {"path": str(dataset.path)}
    summary = con.execute(f"SUMMARIZE SELECT * FROM {_source()}", params).df()
    duplicates = con.execute(
        f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM {_source()})) "
        f"FROM {_source()}",
        params,
    ).fetchone()[0]
    roles = dataset.roles
    table = pd.DataFrame(
        {
            "column": summary["column_name"],
            "type": summary["column_type"],
            "role": [roles.get(c) or "" for c in summary["column_name"]],
            "nulls": (summary["null_percentage"].astype(float) / 100 * dataset.rows)
            .round()
            .astype("int64"),
            "null_pct": summary["null_percentage"].astype(float).round(2),
            "distinct": summary["approx_unique"].astype("int64"),
            "min": summary["min"].astype("string"),
            "max": summary["max"].astype("string"),
            "mean": pd.to_numeric(summary["avg"], errors="coerce"),
            "std": pd.to_numeric(summary["std"], errors="coerce"),
        }
    )
    date_column = dataset.column_for("date") or next(
        (c.name for c in dataset.columns if kind_of(c.type) == TEMPORAL), None
    )
    date_min = date_max = None
    if date_column:
        q = quote_ident(date_column)
        date_min, date_max = con.execute(
            f"SELECT min({q})::TIMESTAMP, max({q})::TIMESTAMP FROM {_source()}", params
        ).fetchone()
    return DatasetProfile(
        rows=dataset.rows,
        duplicate_rows=int(duplicates),
        date_column=date_column,
        date_min=pd.Timestamp(date_min) if date_min is not None else None,
        date_max=pd.Timestamp(date_max) if date_max is not None else None,
        columns=table,
    )


def column_detail(con, dataset: Dataset, column: str) -> ColumnDetail:
    """Most frequent values and a histogram of one column."""
    types = {c.name: c.type for c in dataset.columns}
    if column not in types:
        raise UserInputError(f"There is no column {column!r} in {dataset.name}.")
    q, params = quote_ident(column), {"path": str(dataset.path)}
    top = con.execute(
        f"SELECT {q}::VARCHAR AS value, count(*) AS count FROM {_source()} "
        f"GROUP BY 1 ORDER BY count DESC, value NULLS LAST LIMIT {TOP_VALUES}",
        params,
    ).df()
    top["share"] = top["count"] / max(dataset.rows, 1)
    kind = kind_of(types[column])
    histogram = pd.DataFrame(columns=["bin_start", "bin_end", "count"])
    if kind in (NUMERIC, TEMPORAL):
        value = f"epoch({q})" if kind == TEMPORAL else f"{q}::DOUBLE"
        histogram = con.execute(
            f"""
            WITH v AS (SELECT {value} AS x FROM {_source()} WHERE {q} IS NOT NULL),
                 b AS (SELECT min(x) AS lo, greatest(max(x) - min(x), 1e-12) AS span FROM v)
            SELECT least(floor((x - lo) / span * {HISTOGRAM_BINS}), {HISTOGRAM_BINS - 1}) AS bin,
                   any_value(lo) + bin * any_value(span) / {HISTOGRAM_BINS} AS bin_start,
                   any_value(lo) + (bin + 1) * any_value(span) / {HISTOGRAM_BINS} AS bin_end,
                   count(*) AS count
            FROM v, b GROUP BY bin ORDER BY bin
            """,
            params,
        ).df()[["bin_start", "bin_end", "count"]]
        if kind == TEMPORAL:
            for edge in ("bin_start", "bin_end"):
                histogram[edge] = pd.to_datetime(histogram[edge], unit="s")
    return ColumnDetail(column=column, kind=kind, top_values=top, histogram=histogram)


def preview(
    con,
    dataset: Dataset,
    *,
    sort_by: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> pd.DataFrame:
    """One page of rows, optionally sorted by a column (nulls last)."""
    if sort_by is not None and sort_by not in dataset.roles:
        raise UserInputError(f"There is no column {sort_by!r} to sort by.")
    order = ""
    if sort_by:
        order = f"ORDER BY {quote_ident(sort_by)} {'DESC' if descending else 'ASC'} NULLS LAST"
    return con.execute(
        f"SELECT * FROM {_source()} {order} LIMIT $limit OFFSET $offset",
        {"path": str(dataset.path), "limit": max(1, min(limit, 10_000)), "offset": max(0, offset)},
    ).df()

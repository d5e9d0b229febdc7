"""Exports to CSV, Excel and Parquet that are safe to open in a spreadsheet.

A text cell starting with = + - @ (or a tab or carriage return) is a formula to
Excel, LibreOffice and Google Sheets: a hostile file could run commands or leak
data when opened. CSV and Excel exports prefix such cells with an apostrophe
(OWASP's advice), which spreadsheets show as text. Parquet is a data format, not a
spreadsheet, so it keeps values exactly.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pandas as pd

from core.data.catalog import Dataset
from core.data.duck import quote_ident
from core.data.roles import TEXT, kind_of
from core.errors import UserInputError

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
EXCEL_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
_TRIGGERS = re.compile(r"^[=+\-@\t\r]")


def neutralise(value):
    """Make a text value inert in a spreadsheet; other values pass through."""
    if isinstance(value, str) and _TRIGGERS.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell neutralised (also column names)."""
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """A small table as safe CSV bytes (UTF-8 with BOM, so Excel reads accents right)."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def _safe_select(dataset: Dataset) -> str:
    parts = []
    for column in dataset.columns:
        q = quote_ident(column.name)
        if kind_of(column.type) == TEXT:
            parts.append(
                f"CASE WHEN regexp_matches({q}::VARCHAR, '^[=+\\-@\\t\\r]') "
                f"THEN '''' || {q}::VARCHAR ELSE {q}::VARCHAR END AS {q}"
            )
        else:
            parts.append(q)
    return ", ".join(parts)


def export_dataset(con, dataset: Dataset, fmt: str, row_cap: int) -> bytes:
    """The dataset's current version as CSV, Excel or Parquet bytes (at most `row_cap` rows)."""
    if fmt not in FORMATS:
        raise UserInputError(f"Export format must be one of {', '.join(FORMATS)}.")
    cap = min(row_cap, EXCEL_MAX_ROWS) if fmt == "xlsx" else row_cap
    params = {"path": str(dataset.path), "cap": cap}
    if fmt == "xlsx":
        return _excel(con, dataset, params)
    select = "*" if fmt == "parquet" else _safe_select(dataset)
    with tempfile.TemporaryDirectory(prefix="beacon-export-") as tmp:
        target = Path(tmp) / f"export.{fmt}"
        # CSV: DuckDB writes the rows, we write the header, since names can be hostile too.
        options = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(HEADER false)"
        con.execute(
            f"COPY (SELECT {select} FROM read_parquet($path) LIMIT $cap) "
            f"TO '{str(target).replace(chr(39), chr(39) * 2)}' {options}",
            params,
        )
        data = target.read_bytes()
    if fmt == "csv":
        header = ",".join(_csv_field(neutralise(c.name)) for c in dataset.columns)
        data = b"\xef\xbb\xbf" + header.encode("utf-8") + b"\n" + data
    return data


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _excel(con, dataset: Dataset, params: dict) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.name[:31])
    sheet.append([neutralise(c.name) for c in dataset.columns])
    result = con.execute("SELECT * FROM read_parquet($path) LIMIT $cap", params)
    while batch := result.fetchmany(10_000):
        for row in batch:
            sheet.append([_excel_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value):
    if isinstance(value, str):
        return neutralise(value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, list | dict):
        return str(value)
    return value

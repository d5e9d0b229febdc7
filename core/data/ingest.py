"""Read CSV/TSV, Excel, Parquet and JSON-lines files into a staged Parquet file.

DuckDB's readers stream the source straight into a zstd Parquet file, so a large
file is never loaded whole into memory. Python only looks at the first few hundred
kilobytes: to choose the encoding and delimiter and to give precise messages for
the mistakes people make most (blank or duplicate headers, ragged rows, wrong
delimiter, binary files). Every failure is a one-line UserInputError.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb

from core.data.duck import first_line
from core.errors import UserInputError

SNIFF_BYTES = 256 * 1024
SNIFF_LINES = 500
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("auto", "utf-8", "latin-1", "utf-16")
DECIMALS = (".", ",")
FORMATS = ("csv", "xlsx", "parquet", "jsonl")
PARQUET_OPTIONS = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a text file; None or 'auto' means detect."""

    delimiter: str | None = None
    header: bool = True
    encoding: str = "auto"
    decimal: str = "."
    fill_short_rows: bool = False
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A validated Parquet file written under a staging name, not yet in the catalog."""

    path: Path
    rows: int
    columns: tuple[tuple[str, str], ...]
    source_format: str


def detect_format(head: bytes, filename: str) -> str:
    """Format from the file's first bytes, falling back to its extension."""
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserInputError(
            f"{filename} is an old .xls workbook: open it in Excel and save it as .xlsx."
        )
    if suffix in (".xlsx", ".xlsm"):
        raise UserInputError(f"{filename} is not a valid Excel file: save it again as .xlsx.")
    if suffix == ".parquet":
        raise UserInputError(f"{filename} is not a valid Parquet file (no PAR1 header).")
    if suffix in (".jsonl", ".ndjson") or head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{"):
        return "jsonl"
    return "csv"


# --- text files -------------------------------------------------------------------


def _choose_encoding(head: bytes, wanted: str) -> str:
    if wanted not in ENCODINGS:
        raise UserInputError(f"Unknown encoding {wanted!r}: choose one of {', '.join(ENCODINGS)}.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if wanted != "auto":
        return wanted
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"  # the usual encoding of files saved by older spreadsheet tools


def _reject_binary(head: bytes, filename: str, encoding: str) -> None:
    if encoding == "utf-16":
        return
    sample = head[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise UserInputError(
            f"{filename} is not a text file (binary content found): upload a CSV, TSV, "
            "Excel, Parquet or JSON-lines file."
        )


def _sample_rows(head: bytes, encoding: str, delimiter: str, truncated: bool) -> list[list[str]]:
    python_encoding = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}[encoding]
    text = head.decode(python_encoding, errors="replace")
    if truncated:
        text = text[: text.rfind("\n") + 1]  # drop the partial last line
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= SNIFF_LINES:
                break
    except csv.Error:
        pass  # a broken quote deep in the sample; DuckDB reports it precisely later
    return rows


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    if not rows:
        return 0.0, 0
    width = len(rows[0])
    return sum(len(r) == width for r in rows) / len(rows), width


def _choose_delimiter(head: bytes, encoding: str, truncated: bool) -> str:
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        rows = _sample_rows(head, encoding, delimiter, truncated)
        share, width = _consistency(rows)
        if width > 1 and (share, width) > best_score:
            best, best_score = delimiter, (share, width)
    return best


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, delimiter)


def check_header(names: list[str]) -> list[str]:
    """Trimmed column names; refuses blank and duplicate names (case-insensitive, as SQL)."""
    names = [str(n).strip() if n is not None else "" for n in names]
    blanks = [str(i + 1) for i, n in enumerate(names) if not n]
    if blanks:
        raise UserInputError(
            f"Column {', '.join(blanks)} has no name in the header row: name every column."
        )
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for name in names:
        if name.lower() in seen and name not in duplicates:
            duplicates.append(name)
        seen.setdefault(name.lower(), name)
    if duplicates:
        listed = ", ".join(repr(d) for d in duplicates)
        raise UserInputError(f"Column names must be unique; repeated: {listed}. Rename them.")
    return names


def _check_rows(rows: list[list[str]], width: int, options: ReadOptions, first_line: int) -> None:
    for line, row in enumerate(rows, start=first_line):
        if len(row) > width or (len(row) < width and not options.fill_short_rows):
            raise UserInputError(
                f"Line {line} has {len(row)} fields but the header has {width}: fix that row"
                + ("." if len(row) > width else ", or choose to fill short rows with empty values.")
            )


def _csv_sql(
    path: Path,
    delimiter: str,
    names: list[str] | None,
    encoding: str,
    options: ReadOptions,
    full_scan: bool,
) -> tuple[str, dict]:
    params = {
        "path": str(path),
        "delim": delimiter,
        "header": options.header,
        "encoding": encoding,
        "decimal": options.decimal,
        "pad": options.fill_short_rows,
        "sample": -1 if full_scan else 20480,
    }
    names_sql = ""
    if names is not None:
        params["names"] = names
        names_sql = ", names = $names"
    sql = (
        "SELECT * FROM read_csv($path, delim = $delim, quote = '\"', escape = '\"', "
        "header = $header, skip = 0, encoding = $encoding, decimal_separator = $decimal, "
        f"null_padding = $pad, sample_size = $sample, strict_mode = true{names_sql})"
    )
    return sql, params


def _explain_csv_error(exc: duckdb.Error, width: int) -> UserInputError:
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"Line {line.group(1)}" if line else "A row"
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if found:
        return UserInputError(
            f"{where} has {found.group(2)} fields but the header has {found.group(1)}: "
            "fix that row."
        )
    if "Value with unterminated quote" in text or "unterminated quote" in text.lower():
        return UserInputError(f"{where} opens a quote that never closes: fix the quoting.")
    if "Invalid unicode" in text:
        return UserInputError(f"{where} is not valid text in this encoding: choose Latin-1.")
    return UserInputError(f"Could not read the file: {first_line(exc)}")


def _stage_csv(con, source: Path, filename: str, staging: Path, options: ReadOptions) -> None:
    with source.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    truncated = len(head) == SNIFF_BYTES
    if not head.strip(b" \r\n\t\xef\xbb\xbf"):
        raise UserInputError(f"{filename} is empty: it needs a header row and data rows.")
    encoding = _choose_encoding(head, options.encoding)
    _reject_binary(head, filename, encoding)
    if options.delimiter not in (None, "", *DELIMITERS):
        raise UserInputError("Choose comma, semicolon, tab or pipe as the delimiter.")
    if options.decimal not in DECIMALS:
        raise UserInputError("The decimal separator must be '.' or ','.")
    delimiter = options.delimiter or _choose_delimiter(head, encoding, truncated)
    rows = _sample_rows(head, encoding, delimiter, truncated)
    if not rows:
        raise UserInputError(f"{filename} is empty: it needs a header row and data rows.")
    if options.delimiter and len(rows[0]) == 1:
        guess = _choose_delimiter(head, encoding, truncated)
        if guess != delimiter and len(_sample_rows(head, encoding, guess, truncated)[0]) > 1:
            raise UserInputError(
                f"With the {_delimiter_name(delimiter)} delimiter every row is one column; "
                f"the file looks {_delimiter_name(guess)}-separated: choose that delimiter."
            )
    names = check_header(rows[0]) if options.header else None
    width = len(rows[0])
    if options.header and len(rows) == 1 and not truncated:
        raise UserInputError(f"{filename} has a header row but no data rows.")
    _check_rows(rows[1:] if options.header else rows, width, options, 2 if options.header else 1)
    if options.decimal == "," and delimiter == ",":
        raise UserInputError("A comma cannot be both the delimiter and the decimal separator.")

    attempts = [(encoding, False), (encoding, True)]
    if options.encoding == "auto" and encoding == "utf-8":
        attempts.append(("latin-1", False))  # invalid UTF-8 beyond the sniffed head
    last: duckdb.Error | None = None
    for enc, full_scan in attempts:
        sql, params = _csv_sql(source, delimiter, names, enc, options, full_scan)
        try:
            con.execute(f"COPY ({sql}) TO '{_sql_path(staging)}' {PARQUET_OPTIONS}", params)
            return
        except duckdb.ConversionException as exc:
            last = exc  # a value beyond the type-sniffing sample: rescan the whole file
        except duckdb.Error as exc:
            last = exc
            if "Invalid unicode" not in str(exc) and "sniff" not in str(exc).lower():
                break
    raise _explain_csv_error(last, width) from last


def _sql_path(path: Path) -> str:
    # COPY's target cannot be a bound parameter in every DuckDB release; the path is ours
    # (under BEACON_HOME, made of a uuid), never user text, and is quoted regardless.
    return str(path).replace("'", "''")


# --- Excel -------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _excel_to_csv(source: Path, filename: str, target: Path, sheet: str | None) -> None:
    """Stream a workbook's sheet into a UTF-8 CSV, row by row (openpyxl read-only mode)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UserInputError(
            f"{filename} could not be read as Excel ({type(exc).__name__}): "
            "open it in Excel and save it again as .xlsx."
        ) from exc
    try:
        if sheet and sheet not in workbook.sheetnames:
            raise UserInputError(
                f"{filename} has no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}."
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        while header is not None and all(v is None for v in header):
            header = next(rows, None)
        if header is None:
            raise UserInputError(f"{filename} is empty: its first sheet has no rows.")
        header = list(header)
        while header and header[-1] is None:
            header.pop()
        names = check_header(header)
        width = len(names)
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(names)
            for number, row in enumerate(rows, start=2):
                values = list(row)
                if all(v is None for v in values):
                    continue
                if any(v is not None for v in values[width:]):
                    raise UserInputError(
                        f"Row {number} has values beyond the last named column: name that column."
                    )
                writer.writerow(
                    [_cell_text(v) for v in values[:width]] + [""] * (width - len(values))
                )
    finally:
        workbook.close()


# --- entry point -------------------------------------------------------------------


def stage(con, source: Path, filename: str, staging: Path, options: ReadOptions) -> StagedFile:
    """Read `source` into the Parquet file `staging` and validate it; raises UserInputError."""
    with source.open("rb") as fh:
        head = fh.read(8)
    if not head:
        raise UserInputError(f"{filename} is empty: it needs a header row and data rows.")
    fmt = detect_format(head, filename)
    if fmt == "xlsx":
        as_csv = staging.with_suffix(".csv")
        try:
            _excel_to_csv(source, filename, as_csv, options.sheet)
            csv_options = ReadOptions(delimiter=",", header=True, encoding="utf-8")
            _stage_csv(con, as_csv, filename, staging, csv_options)
        finally:
            as_csv.unlink(missing_ok=True)
    elif fmt == "csv":
        _stage_csv(con, source, filename, staging, options)
    else:
        reader = (
            "read_parquet($path)"
            if fmt == "parquet"
            else "read_json($path, format = 'newline_delimited')"
        )
        try:
            con.execute(
                f"COPY (SELECT * FROM {reader}) TO '{_sql_path(staging)}' {PARQUET_OPTIONS}",
                {"path": str(source)},
            )
        except duckdb.Error as exc:
            kind = "Parquet" if fmt == "parquet" else "JSON-lines"
            raise UserInputError(
                f"{filename} is not a readable {kind} file: {first_line(exc)}"
            ) from exc
    return _validate(con, staging, filename, fmt)


def _validate(con, staging: Path, filename: str, fmt: str) -> StagedFile:
    rows = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(staging)}).fetchone()[0]
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(staging)})
    columns = tuple((name, dtype) for name, dtype, *_ in described.fetchall())
    check_header([name for name, _ in columns])
    if rows == 0:
        raise UserInputError(f"{filename} has a header row but no data rows.")
    return StagedFile(path=staging, rows=rows, columns=columns, source_format=fmt)

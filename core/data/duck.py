"""DuckDB connections and safe SQL building (quoted identifiers, bound values)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def connect(memory_limit: str = "2GB", threads: int = 2, temp_dir: Path | None = None):
    """A private in-memory DuckDB connection; each process (and thread) opens its own."""
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET threads = ?", [threads])
    # Extensions are fetched from the network on first use, which Beacon must never do.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = ?", [str(temp_dir)])
    return con


def quote_ident(name: str) -> str:
    """Quote a column or table name for DuckDB SQL, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a DuckDB error, without its 'X Error:' prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split("Error: ", 1)[-1].strip()

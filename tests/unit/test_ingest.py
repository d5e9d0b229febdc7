"""Ingest: every kind of good and bad file, with the exact message and an unchanged catalog."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from core.auth.roles import User
from core.config import load_settings
from core.data.catalog import Catalog
from core.data.ingest import ReadOptions
from core.errors import UserInputError
from core.services import Services, open_services

SYSTEM = User.system()
GOOD = "order_id,order_date,customer_id,amount\nA1,2024-01-02,C1,10.5\nA2,2024-01-03,C2,7.25\n"


def snapshot(services: Services) -> tuple:
    """Everything a failed ingest must leave untouched: catalog rows and dataset files."""
    datasets = [(d.name, d.version, d.version_count) for d in services.catalog.datasets(SYSTEM)]
    root = services.settings.datasets_dir
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return datasets, files


def ingest(services: Services, path: Path, **kwargs):
    return services.catalog.ingest_file(SYSTEM, path, **kwargs)


def rows_of(services: Services, name: str) -> list[tuple]:
    dataset = services.catalog.get(SYSTEM, name)
    con = services.catalog.connect()
    return con.execute("SELECT * FROM read_parquet(?)", [str(dataset.path)]).fetchall()


# --- good files ----------------------------------------------------------------------


def test_csv_types_and_roles_are_detected(services, write_file):
    dataset = ingest(services, write_file("orders.csv", GOOD))
    assert (dataset.name, dataset.rows, dataset.version) == ("orders", 2, 1)
    types = {c.name: c.type for c in dataset.columns}
    assert types == {
        "order_id": "VARCHAR",
        "order_date": "DATE",
        "customer_id": "VARCHAR",
        "amount": "DOUBLE",
    }
    assert dataset.roles == {
        "order_id": "order_id",
        "order_date": "date",
        "customer_id": "customer_id",
        "amount": "amount",
    }
    assert dataset.path.suffix == ".parquet" and dataset.path.is_file()


@pytest.mark.parametrize(
    ("content", "options", "expected"),
    [
        (b"a;b\n1;x\n2;y\n", ReadOptions(), [(1, "x"), (2, "y")]),
        (b"a\tb\n1\tx\n", ReadOptions(), [(1, "x")]),
        (b"a|b\n1|x\n", ReadOptions(delimiter="|"), [(1, "x")]),
        (b"a;b\n1,5;x\n2,25;y\n", ReadOptions(decimal=","), [(1.5, "x"), (2.25, "y")]),
        (b'a,b\n1,"x, with comma"\n', ReadOptions(), [(1, "x, with comma")]),
        (b"1,x\n2,y\n", ReadOptions(header=False), [(1, "x"), (2, "y")]),
        (b"a,b\n1\n2,y\n", ReadOptions(fill_short_rows=True), [(1, None), (2, "y")]),
    ],
    ids=["semicolon", "tab", "pipe", "decimal-comma", "quoted", "no-header", "fill-short"],
)
def test_dialects(services, write_file, content, options, expected):
    dataset = ingest(services, write_file("d.csv", content), options=options)
    assert rows_of(services, dataset.name) == expected


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("name,city\nJosé,Köln\n".encode("utf-8-sig"), "auto"),
        ("name,city\nJosé,Köln\n".encode("latin-1"), "auto"),
        ("name,city\nJosé,Köln\n".encode("latin-1"), "latin-1"),
        ("name,city\nJosé,Köln\n".encode("utf-16"), "auto"),
    ],
    ids=["utf8-bom", "latin1-detected", "latin1-chosen", "utf16-bom"],
)
def test_encodings(services, write_file, content, encoding):
    dataset = ingest(services, write_file("e.csv", content), options=ReadOptions(encoding=encoding))
    assert [c.name for c in dataset.columns] == ["name", "city"]
    assert rows_of(services, dataset.name) == [("José", "Köln")]


def test_latin1_beyond_the_sniffed_head_is_retried(services, write_file):
    body = "".join(f"{i},plain\n" for i in range(40_000))  # > 256 KB of ASCII first
    content = ("id,city\n" + body).encode() + "99999,Köln\n".encode("latin-1")
    dataset = ingest(services, write_file("late.csv", content))
    assert dataset.rows == 40_001
    assert rows_of(services, dataset.name)[-1] == (99999, "Köln")


def test_type_beyond_the_sampled_rows_triggers_a_full_scan(services, write_file):
    body = "".join(f"{i}\n" for i in range(30_000)) + "not-a-number\n"
    dataset = ingest(services, write_file("late_text.csv", "value\n" + body))
    assert dataset.columns[0].type == "VARCHAR" and dataset.rows == 30_001


def test_excel_parquet_and_jsonl(services, write_file, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "quantity", "when"])
    sheet.append(["S1", 3, pd.Timestamp("2024-02-01").to_pydatetime()])
    sheet.append(["S2", 5, pd.Timestamp("2024-02-02").to_pydatetime()])
    xlsx = tmp_path / "stock.xlsx"
    book.save(xlsx)
    dataset = ingest(services, xlsx)
    assert dataset.rows == 2 and dataset.roles["sku"] == "sku"
    assert {c.name: c.type for c in dataset.columns}["quantity"] == "BIGINT"

    parquet = tmp_path / "p.parquet"
    pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}).to_parquet(parquet)
    assert ingest(services, parquet).rows == 3

    lines = "\n".join(json.dumps({"id": i, "tag": f"t{i}"}) for i in range(4))
    dataset = ingest(services, write_file("events.jsonl", lines))
    assert dataset.rows == 4 and [c.name for c in dataset.columns] == ["id", "tag"]


def test_hostile_names_and_cells_are_kept_verbatim_and_harmless(services, write_file):
    name = 'amount"; DROP TABLE users; --'
    content = f'"{name.replace(chr(34), chr(34) * 2)}",note\n1,<script>alert(1)</script>\n'
    dataset = ingest(services, write_file("hostile.csv", content))
    assert [c.name for c in dataset.columns] == [name, "note"]
    assert rows_of(services, dataset.name) == [(1, "<script>alert(1)</script>")]
    assert services.catalog.datasets(SYSTEM)  # the store is intact


# --- bad files: one line that says what to fix, and nothing changed ------------------

BAD_CASES = [
    ("empty.csv", b"", "empty.csv is empty: it needs a header row and data rows."),
    ("blank.csv", b"\n\n  \n", "blank.csv is empty: it needs a header row and data rows."),
    ("header.csv", b"a,b,c\n", "header.csv has a header row but no data rows."),
    ("junk.csv", bytes(range(256)) * 40, "junk.csv is not a text file (binary content found)"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "Line 3 has 3 fields but the header has 2: fix that row."),
    ("short.csv", b"a,b\n1,2\n3\n", "Line 3 has 1 fields but the header has 2"),
    ("dupes.csv", b"id,name,Name\n1,x,y\n", "Column names must be unique; repeated: 'Name'."),
    ("blank_name.csv", b"id,,x\n1,2,3\n", "Column 2 has no name in the header row"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "is an old .xls workbook"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "broken.xlsx could not be read as Excel"),
    ("fake.xlsx", b"just text", "fake.xlsx is not a valid Excel file"),
    ("fake.parquet", b"a,b\n1,2\n", "fake.parquet is not a valid Parquet file"),
    ("bad.jsonl", b'{"a": 1}\n{"a": \n', "bad.jsonl is not a readable JSON-lines file"),
]


@pytest.mark.parametrize(
    ("filename", "content", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_files_fail_cleanly(services, write_file, filename, content, message):
    ingest(services, write_file("keep.csv", GOOD), name="keep")
    before = snapshot(services)
    with pytest.raises(UserInputError) as caught:
        ingest(services, write_file(filename, content))
    text = str(caught.value)
    assert message in text
    assert "\n" not in text  # one line
    assert snapshot(services) == before


def test_bad_new_version_leaves_the_old_one_current(services, write_file):
    ingest(services, write_file("orders.csv", GOOD), name="orders")
    before = snapshot(services)
    with pytest.raises(UserInputError):
        ingest(services, write_file("orders2.csv", "a,b\n1,2,3\n"), name="orders")
    assert snapshot(services) == before
    assert services.catalog.get(SYSTEM, "orders").version == 1


def test_wrong_delimiter_names_the_right_one(services, write_file):
    path = write_file("semi.csv", "a;b;c\n1;2;3\n4;5;6\n")
    with pytest.raises(UserInputError, match="looks semicolon-separated: choose that delimiter"):
        ingest(services, path, options=ReadOptions(delimiter=","))


def test_comma_cannot_be_both_delimiter_and_decimal(services, write_file):
    with pytest.raises(UserInputError, match="both the delimiter and the decimal separator"):
        ingest(services, write_file("c.csv", GOOD), options=ReadOptions(decimal=","))


def test_declared_utf8_on_latin1_file_says_to_choose_latin1(services, write_file):
    path = write_file("l.csv", "name\nJosé\n".encode("latin-1"))
    with pytest.raises(UserInputError, match="choose Latin-1"):
        ingest(services, path, options=ReadOptions(encoding="utf-8"))


def test_file_over_the_limit_is_refused_before_reading(beacon_home, monkeypatch, write_file):
    monkeypatch.setenv("BEACON_UPLOAD_LIMIT_MB", "1")
    services = open_services(load_settings())
    big = write_file("big.csv", "x\n" + "1\n" * 600_000)  # ~1.2 MB
    with pytest.raises(UserInputError, match=r"big.csv is 1.1 MB; the upload limit is 1.0 MB"):
        ingest(services, big)
    with pytest.raises(UserInputError, match="upload limit"):
        services.catalog.ingest_upload(SYSTEM, io.BytesIO(big.read_bytes()), "big.csv")
    assert snapshot(services) == ([], [])


def test_upload_spool_is_removed(services):
    dataset = services.catalog.ingest_upload(SYSTEM, io.BytesIO(GOOD.encode()), "Up Load.csv")
    assert dataset.name == "up_load"
    staging = services.settings.datasets_dir / ".staging"
    assert list(staging.iterdir()) == []


def test_server_folder_import_refuses_traversal(beacon_home, monkeypatch, tmp_path):
    folder = tmp_path / "imports"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "orders.csv").write_text(GOOD)
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    monkeypatch.setenv("BEACON_IMPORT_DIR", str(folder))
    services = open_services(load_settings())
    assert services.catalog.server_files(SYSTEM) == ["sub/orders.csv"]
    assert services.catalog.ingest_server_file(SYSTEM, "sub/orders.csv").rows == 2
    for sneaky in ("../secret.csv", str(tmp_path / "secret.csv"), "sub/../../secret.csv"):
        with pytest.raises(UserInputError, match="is not a file in the import folder"):
            services.catalog.ingest_server_file(SYSTEM, sneaky)


def test_server_import_is_off_without_a_folder(services):
    with pytest.raises(UserInputError, match="BEACON_IMPORT_DIR"):
        services.catalog.ingest_server_file(SYSTEM, "x.csv")


def test_interrupted_ingest_leaves_nothing_behind(services, write_file, monkeypatch):
    ingest(services, write_file("keep.csv", GOOD), name="keep")
    before = snapshot(services)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # the user cancels (Ctrl-C, or Streamlit stopping the run)

    monkeypatch.setattr(Catalog, "_commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest(services, write_file("orders.csv", GOOD), name="keep")
    assert snapshot(services) == before


def test_failure_after_the_rename_rolls_back_and_removes_the_file(
    services, write_file, monkeypatch
):
    ingest(services, write_file("keep.csv", GOOD), name="keep")
    before = snapshot(services)
    import core.data.catalog as catalog_module

    real_replace = catalog_module.os.replace

    def replace_then_crash(src, dst):
        real_replace(src, dst)
        raise OSError("disk went away")

    monkeypatch.setattr(catalog_module.os, "replace", replace_then_crash)
    with pytest.raises(OSError):
        ingest(services, write_file("orders.csv", GOOD), name="keep")
    assert snapshot(services) == before

"""Profiles, previews and exports on small datasets with hand-computed answers."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from core.auth.roles import User
from core.data import export, profile
from core.errors import UserInputError

SYSTEM = User.system()
CSV = (
    "order_date,region,amount,note\n"
    "2024-01-01,North,10,ok\n"
    '2024-01-02,South,20,=HYPERLINK("http://x")\n'
    '2024-01-02,South,20,=HYPERLINK("http://x")\n'
    "2024-01-05,North,,@SUM(A1)\n"
    "2024-01-09,East,50,+1\n"
)


@pytest.fixture
def dataset(services, write_file):
    return services.catalog.ingest_file(SYSTEM, write_file("sales.csv", CSV), name="sales")


@pytest.fixture
def con(services):
    return services.catalog.connect()


def test_profile_known_answers(con, dataset):
    prof = profile.profile(con, dataset)
    assert (prof.rows, prof.duplicate_rows, prof.date_column) == (5, 1, "order_date")
    assert (prof.date_min, prof.date_max) == (
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-09"),
    )
    amount = prof.columns.set_index("column").loc["amount"]
    assert amount["nulls"] == 1 and amount["null_pct"] == 20.0
    assert amount["mean"] == pytest.approx(25.0)  # (10+20+20+50)/4
    assert (amount["min"], amount["max"]) == ("10", "50")
    assert amount["role"] == "amount"


def test_column_detail_top_values_and_histogram(con, dataset):
    detail = profile.column_detail(con, dataset, "region")
    assert detail.top_values[["value", "count"]].values.tolist() == [
        ["North", 2],
        ["South", 2],
        ["East", 1],
    ]
    assert detail.top_values["share"].tolist() == [0.4, 0.4, 0.2]
    assert detail.histogram.empty  # text column: no histogram

    numeric = profile.column_detail(con, dataset, "amount")
    assert numeric.histogram["count"].sum() == 4  # the null is not binned
    assert numeric.histogram["bin_start"].iloc[0] == 10
    assert numeric.histogram["bin_end"].iloc[-1] == pytest.approx(50)
    dates = profile.column_detail(con, dataset, "order_date")
    assert dates.histogram["count"].sum() == 5
    assert dates.histogram["bin_start"].iloc[0] == pd.Timestamp("2024-01-01")
    with pytest.raises(UserInputError, match="no column"):
        profile.column_detail(con, dataset, "ghost")


def test_preview_pages_and_sorts(con, dataset):
    page = profile.preview(con, dataset, sort_by="amount", descending=True, limit=2)
    assert page["amount"].tolist() == [50, 20]
    second = profile.preview(con, dataset, sort_by="amount", descending=True, offset=4, limit=2)
    assert second["amount"].isna().tolist() == [True]  # nulls last
    with pytest.raises(UserInputError, match="no column"):
        profile.preview(con, dataset, sort_by='x"; DROP TABLE t; --')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (42, 42),
    ],
)
def test_neutralise(value, expected):
    assert export.neutralise(value) == expected


def test_csv_export_neutralises_formulas(con, dataset):
    data = export.export_dataset(con, dataset, "csv", row_cap=100)
    assert data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert frame["note"].tolist() == ["ok", "'=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")",
                                      "'@SUM(A1)", "'+1"]  # fmt: skip
    assert frame["amount"].tolist()[:2] == [10, 20]  # numbers untouched


def test_excel_export_writes_text_not_formulas(con, dataset):
    data = export.export_dataset(con, dataset, "xlsx", row_cap=3)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("order_date", "region", "amount", "note")
    assert len(rows) == 4  # header + row cap
    assert rows[2][3] == '\'=HYPERLINK("http://x")'
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_parquet_export_keeps_values_exactly(con, dataset, tmp_path):
    data = export.export_dataset(con, dataset, "parquet", row_cap=100)
    path = tmp_path / "out.parquet"
    path.write_bytes(data)
    assert pd.read_parquet(path)["note"].iloc[1] == '=HYPERLINK("http://x")'


def test_hostile_column_names_are_neutralised_in_exports(services, write_file, con):
    dataset = services.catalog.ingest_file(
        SYSTEM, write_file("h.csv", "\"=cmd|' /C calc'!A0\",b\n1,2\n"), name="hostile"
    )
    header = export.export_dataset(con, dataset, "csv", 10).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("'=cmd")
    with pytest.raises(UserInputError, match="Export format"):
        export.export_dataset(con, dataset, "exe", 10)


def test_frame_to_csv_neutralises():
    data = export.frame_to_csv(pd.DataFrame({"who": ["=evil()", "ok"], "n": [-1, 2]}))
    assert data.decode("utf-8-sig").splitlines() == ["who,n", "'=evil(),-1", "ok,2"]

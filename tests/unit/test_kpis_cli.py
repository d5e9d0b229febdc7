"""`python -m core kpis`: the JSON contract of DESIGN.md, on a file and on a dataset."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from tests.unit.test_kpis_queries import COLUMNS, ORDERS


def orders_csv() -> str:
    lines = [",".join(COLUMNS)]
    for row in ORDERS:
        lines.append(",".join("" if v is None else str(v) for v in row))
    return "\n".join(lines) + "\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kpis_json_per_month_of_a_file(capsys, write_file):
    path = write_file("orders.csv", orders_csv())
    code, out, err = run(
        capsys,
        "kpis",
        str(path),
        "--grain",
        "month",
        "--start",
        "2024-01-01",
        "--end",
        "2024-04-30",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "grain": "month",
        "periods": [
            {"period": "2024-01-01", "revenue": 155, "orders": 2, "customers": 2, "aov": 77.5},
            {"period": "2024-02-01", "revenue": 60, "orders": 1, "customers": 1, "aov": 60},
            {"period": "2024-03-01", "revenue": 40, "orders": 1, "customers": 1, "aov": 40},
            {"period": "2024-04-01", "revenue": 0, "orders": 0, "customers": 0, "aov": None},
        ],
        "totals": {"revenue": 255, "orders": 4, "customers": 3, "aov": 63.75},
    }


def test_kpis_of_a_dataset_with_mapped_roles(capsys, write_file):
    renamed = orders_csv().replace("amount", "total").replace("customer_id", "buyer")
    path = write_file("shop.csv", renamed)
    assert run(capsys, "ingest", str(path), "--name", "shop")[0] == 0
    code, out, err = run(
        capsys,
        "kpis",
        "shop",
        "--grain",
        "year",
        "--map",
        "amount=total,customer_id=buyer",
        "--json",
    )
    assert (code, err) == (0, "")
    got = json.loads(out)
    assert [p["period"] for p in got["periods"]] == ["2023-01-01", "2024-01-01", "2025-01-01"]
    assert [p["revenue"] for p in got["periods"]] == [100, 485, 170]
    assert got["totals"] == {"revenue": 755, "orders": 10, "customers": 6, "aov": 75.5}
    code, out, _ = run(capsys, "kpis", "shop", "--grain", "year", "--map", "amount=total")
    assert code == 0 and "total" in out.splitlines()[-1] and "755.00" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--start", "2024-13-01"],
            "error: --start takes a date like 2024-01-31, got '2024-13-01'.",
        ),
        (["--start", "2024-03-01", "--end", "2024-01-01"], "before the start date"),
        (["--map", "amount=nope"], "error: --map: there is no column 'nope' in shop."),
    ],
)
def test_bad_input_is_one_line_on_stderr(capsys, write_file, argv, message):
    path = write_file("shop.csv", orders_csv())
    run(capsys, "ingest", str(path), "--name", "shop")
    code, out, err = run(capsys, "kpis", "shop", *argv, "--json")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err


def test_missing_roles_say_how_to_map_them(capsys, write_file):
    path = write_file("plain.csv", "day,score\n2024-01-01,5\n")
    code, _, err = run(capsys, "kpis", str(path), "--json")
    assert code == 2
    assert (
        err
        == "error: plain needs columns with the roles amount: map them with --map amount=COLUMN.\n"
    )

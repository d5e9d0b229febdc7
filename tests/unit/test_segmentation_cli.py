"""`python -m core segment`: the JSON contract, --out, --as-of, --k and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core import cli


def order_log(customers: int = 40) -> str:
    lines = ["order_id,order_date,customer_id,amount"]
    for i in range(customers):
        for j in range(1 + i % 5):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=(i * 11 + j * 37) % 360)
            lines.append(f"O{i}-{j},{day.date()},C{i:03d},{10 + i + 3 * j}")
    return "\n".join(lines) + "\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["segment", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_and_out_file(capsys, write_file, tmp_path):
    source = write_file("orders.csv", order_log())
    out_file = tmp_path / "customers.csv"
    code, out, err = run(
        capsys, str(source), "--k", "3", "--json", "--out", str(out_file), "--clv-horizon", "26"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["k"] == 3 and -1 <= payload["silhouette"] <= 1
    assert {"segment", "name", "customers", "recency_days", "frequency", "monetary"} <= set(
        payload["segments"][0]
    )
    assert sum(s["customers"] for s in payload["segments"]) == payload["customers"] == 40
    assert payload["rfm_segments"][0]["segment"] == "Champions"
    clv = payload["clv"]
    assert clv["model"] == "BG/NBD + Gamma-Gamma" and clv["time_unit"] == "weeks"
    assert set(clv["params"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert clv["horizon"] == 26
    written = pd.read_csv(out_file, encoding="utf-8-sig")
    assert list(written.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "segment",
        "cluster",
        "cluster_name",
        "expected_purchases",
        "p_alive",
        "clv",
    ]
    assert len(written) == 40 and not written.isna().any().any()


def test_as_of_is_a_calibration_cut_and_days_work(capsys, write_file):
    source = write_file("orders.csv", order_log())
    code, out, _ = run(
        capsys, str(source), "--as-of", "2024-06-30", "--time-unit", "days", "--k", "auto", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["as_of"] == "2024-06-30"
    assert payload["clv"]["time_unit"] == "days" and payload["clv"]["horizon"] == 365
    assert 3 <= payload["k"] <= 8
    assert any("after the as-of date were left out" in n for n in payload["notes"])


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            "order_date,customer_id,amount\n2024-01-01,A,5\n2024-02-01,B,6\n2024-03-01,C,7\n",
            ["--k", "5"],
            "error: k=5 needs at least 6 customers; there are 3: choose a smaller k.",
        ),
        (
            "order_date,customer_id,amount\n2024-01-01,A,5\n",
            [],
            "error: Segmenting needs at least 2 customers",
        ),
        ("day,page\n2024-01-01,home\n", [], "error: Segmenting customers needs columns"),
        (None, ["--out", "x.xlsx"], "error: --out writes .csv or .parquet files"),
    ],
    ids=["fewer customers than k", "single customer", "missing roles", "bad --out"],
)
def test_bad_input_exits_2_with_one_line(capsys, write_file, tmp_path, content, args, message):
    source = write_file("log.csv", content or order_log(12))
    args = [a if a != "x.xlsx" else str(tmp_path / a) for a in args]
    code, _, err = run(capsys, str(source), *args)
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1


def test_map_and_unknown_k(capsys, write_file):
    source = write_file("log.csv", order_log(12).replace("customer_id", "buyer"))
    code, out, err = run(capsys, str(source), "--map", "customer_id=buyer", "--k", "2", "--json")
    assert code == 0, err and json.loads(out)["customers"] == 12
    with pytest.raises(SystemExit) as exited:
        cli.main(["segment", str(source), "--k", "many"])
    assert exited.value.code == 2

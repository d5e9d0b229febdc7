"""`python -m core forecast`: the JSON of DESIGN.md, saving, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.auth.roles import User
from core.cli import main
from core.config import load_settings
from core.forecasting import runs
from core.services import open_services


@pytest.fixture
def sales_csv(write_file):
    rng = np.random.default_rng(2)
    rows = ["order_date,region,quantity,amount"]
    for region in ("North", "South"):
        for day in pd.date_range("2022-01-01", "2024-12-31", freq="5D"):
            qty = 10 + 3 * np.sin(2 * np.pi * day.month / 12) + rng.normal(0, 1)
            rows.append(f"{day:%Y-%m-%d},{region},{qty:.2f},{qty * 9.5:.2f}")
    return write_file("sales.csv", "\n".join(rows) + "\n")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_json_schema_per_design(capsys, sales_csv):
    code, out, err = run(
        capsys,
        "forecast",
        str(sales_csv),
        "--horizon",
        "3",
        "--id-col",
        "region",
        "--freq",
        "monthly",
        "--folds",
        "2",
        "--jobs",
        "1",
        "--json",
    )
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert [s["id"] for s in payload["series"]] == ["North", "South"]
    for series in payload["series"]:
        assert set(series) == {"id", "freq", "model", "backtest", "forecast"}
        assert series["freq"] == "monthly"
        assert series["model"] in series["backtest"]
        for scores in series["backtest"].values():
            assert set(scores) == {"mase", "smape"}
        assert [p["ds"] for p in series["forecast"]] == ["2025-01-01", "2025-02-01", "2025-03-01"]
        for point in series["forecast"]:
            assert set(point) == {"ds", "yhat", "lo80", "hi80", "lo95", "hi95"}
            assert point["lo95"] <= point["lo80"] <= point["yhat"] <= point["hi80"] <= point["hi95"]


def test_forecast_defaults_to_roles_and_saves_a_run(capsys, sales_csv):
    code, out, _ = run(capsys, "ingest", str(sales_csv), "--name", "sales")
    assert code == 0
    code, out, err = run(
        capsys,
        "forecast",
        "sales",
        "--horizon",
        "2",
        "--freq",
        "monthly",
        "--jobs",
        "1",
        "--save",
        "cli plan",
        "--json",
    )
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert [s["id"] for s in payload["series"]] == ["(total)"]  # quantity, one series
    services = open_services(load_settings())
    saved = runs.get_run(services.store, User.system(), payload["run_id"])
    assert saved.info.dataset == "sales" and saved.source["value_col"] == "quantity"
    code, out, _ = run(
        capsys, "forecast", "sales", "--horizon", "2", "--freq", "monthly", "--jobs", "1"
    )
    assert code == 0 and out.startswith("(total)\tmonthly\t")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--horizon", "0"], "Give the horizon in periods"),
        (["--horizon", "2", "--id-col", "store"], "--id-col: there is no column 'store'"),
        (["--horizon", "2", "--value-col", "price"], "--value-col: there is no column 'price'"),
        (["--horizon", "2", "--models", "prophet"], "Unknown model 'prophet'"),
        (["--horizon", "2", "--folds", "50"], "folds must be between 0 and 20"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(capsys, sales_csv, argv, message):
    code, out, err = run(capsys, "forecast", str(sales_csv), *argv, "--jobs", "1")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_missing_file_or_dataset(capsys):
    code, _, err = run(capsys, "forecast", "nope.csv", "--horizon", "2")
    assert code == 2 and "neither a dataset in the catalog nor a file" in err


def test_regressors_are_columns_of_the_source(capsys, sales_csv):
    code, _, err = run(
        capsys,
        "forecast",
        str(sales_csv),
        "--horizon",
        "2",
        "--regressors",
        "promo",
        "--jobs",
        "1",
    )
    assert code == 2 and "--regressors: there is no column 'promo'" in err
    code, out, err = run(
        capsys,
        "forecast",
        str(sales_csv),
        "--horizon",
        "2",
        "--freq",
        "monthly",
        "--regressors",
        "amount",
        "--value-col",
        "quantity",
        "--models",
        "arima",
        "--jobs",
        "1",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["series"][0]["model"] in ("arima", "naive2")

"""The command line: in-process through core.cli.main, and once through `python -m core`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from core.auth import users
from core.auth.roles import Role, User
from core.cli import main
from core.config import load_settings
from core.services import open_services
from tests.conftest import PASSWORD, ROOT

SYSTEM = User.system()
ORDERS = "order_date,amount,customer_id\n2024-01-05,10.5,C1\n2024-01-06,20.25,C2\n2024-01-07,5,C1\n"
ORDERS_JSON = {
    "dataset": "orders",
    "version": 1,
    "rows": 3,
    "columns": [
        {"name": "order_date", "type": "DATE", "role": "date"},
        {"name": "amount", "type": "DOUBLE", "role": "amount"},
        {"name": "customer_id", "type": "VARCHAR", "role": "customer_id"},
    ],
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run one command in-process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str):
    """Run one command with --json; it must succeed silently on stderr."""
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def assert_one_line_error(result: tuple[int, str, str], expected: str) -> None:
    code, out, err = result
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.endswith("\n"), err
    assert err.count("\n") == 1, err
    assert expected in err


def accounts() -> list[tuple[str, Role, str]]:
    """(email, role, auth source) of every account, read straight from the store."""
    services = open_services(load_settings())
    return [
        (a.user.email, a.user.role, a.auth_source)
        for a in users.list_accounts(services.store, SYSTEM)
    ]


@pytest.fixture
def orders_csv(write_file):
    return write_file("orders.csv", ORDERS)


# --- ingest -----------------------------------------------------------------------------


def test_ingest_json_reports_dataset_version_rows_and_guessed_roles(capsys, orders_csv):
    assert run_json(capsys, "ingest", str(orders_csv)) == ORDERS_JSON
    catalog = open_services(load_settings()).catalog
    dataset = catalog.get(SYSTEM, "orders")
    assert (dataset.version, dataset.rows, dataset.path.is_file()) == (1, 3, True)
    assert dataset.roles == {"order_date": "date", "amount": "amount", "customer_id": "customer_id"}


def test_ingest_text_output_name_and_new_version(capsys, orders_csv, write_file):
    code, out, err = run(capsys, "ingest", str(orders_csv), "--name", "Sales 2024")
    assert (code, out, err) == (0, "Sales 2024 v1: 3 rows, 3 columns\n", "")
    more = write_file("more.csv", ORDERS + "2024-01-08,7.75,C3\n")
    again = run_json(capsys, "ingest", str(more), "--name", "Sales 2024")
    assert (again["dataset"], again["version"], again["rows"]) == ("Sales 2024", 2, 4)


def test_ingest_semicolon_file_with_explicit_options(capsys, write_file):
    path = write_file("eu.txt", "order_date;amount\n2024-01-05;10,5\n2024-01-06;2,25\n")
    result = run_json(capsys, "ingest", str(path), "--delimiter", ";", "--decimal", ",")
    assert (result["dataset"], result["rows"]) == ("eu", 2)
    assert result["columns"][1] == {"name": "amount", "type": "DOUBLE", "role": "amount"}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("ragged.csv", "a,b,c\n1,2,3\n4,5\n", "Line 3 has 2 fields but the header has 3"),
        ("long.csv", "a,b\n1,2\n3,4,5\n", "Line 3 has 3 fields but the header has 2"),
        ("empty.csv", "", "empty.csv is empty: it needs a header row and data rows."),
        ("header.csv", "a,b\n", "header.csv has a header row but no data rows."),
        ("blank.csv", "a,,c\n1,2,3\n", "Column 2 has no name in the header row"),
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(capsys, write_file, name, content, expected):
    path = write_file(name, content)
    assert_one_line_error(run(capsys, "ingest", str(path)), expected)
    assert run_json(capsys, "datasets", "list") == []  # nothing half-ingested


def test_missing_file_is_an_error(capsys, tmp_path):
    result = run(capsys, "ingest", str(tmp_path / "nowhere" / "absent.csv"), "--json")
    assert_one_line_error(result, "There is no file at absent.csv.")


# --- datasets ---------------------------------------------------------------------------


def test_datasets_list(capsys, orders_csv, write_file):
    assert run(capsys, "datasets", "list") == (0, "(no datasets)\n", "")
    run(capsys, "ingest", str(orders_csv))
    run(capsys, "ingest", str(orders_csv))  # orders v2
    run(capsys, "ingest", str(write_file("Customers (final).csv", "customer_id,region\nC1,N\n")))
    listed = run_json(capsys, "datasets", "list")
    assert [
        (d["dataset"], d["version"], d["versions"], d["rows"], d["columns"]) for d in listed
    ] == [("customers_final", 1, 1, 1, 2), ("orders", 2, 2, 3, 3)]
    assert all(d["updated_at"].endswith("+00:00") for d in listed)
    code, out, _ = run(capsys, "datasets", "list")
    assert (code, out) == (0, "customers_final\tv1\t1 rows\norders\tv2\t3 rows\n")


def test_datasets_show_lists_versions_newest_first(capsys, orders_csv, write_file):
    run(capsys, "ingest", str(orders_csv))
    run(
        capsys,
        "ingest",
        str(write_file("v2.csv", ORDERS + "2024-01-09,1,C9\n")),
        "--name",
        "orders",
    )
    shown = run_json(capsys, "datasets", "show", "orders")
    versions = shown.pop("versions")
    assert shown == {**ORDERS_JSON, "version": 2, "rows": 4, "description": ""}
    assert [(v["version"], v["rows"], v["source"], v["created_by"]) for v in versions] == [
        (2, 4, "v2.csv", "system"),
        (1, 3, "orders.csv", "system"),
    ]
    code, out, _ = run(capsys, "datasets", "show", "orders")
    assert code == 0
    assert out.splitlines()[:2] == ["orders v2, 4 rows", "  order_date\tDATE\tdate"]


def test_datasets_show_and_delete_need_an_existing_name(capsys):
    assert_one_line_error(run(capsys, "datasets", "show", "nope"), "No dataset named 'nope'.")
    assert_one_line_error(run(capsys, "datasets", "delete", "nope"), "No dataset named 'nope'.")
    assert_one_line_error(run(capsys, "datasets", "show"), "Name the dataset")


def test_datasets_delete(capsys, orders_csv):
    run(capsys, "ingest", str(orders_csv))
    folder = open_services(load_settings()).catalog.get(SYSTEM, "orders").path.parent
    assert folder.is_dir()
    assert run(capsys, "datasets", "delete", "orders") == (0, "deleted orders\n", "")
    assert run_json(capsys, "datasets", "list") == []
    assert not folder.exists()
    assert_one_line_error(run(capsys, "datasets", "show", "orders"), "No dataset named")


# --- users ------------------------------------------------------------------------------


def test_create_admin_from_stdin_then_another(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(
        capsys, "users", "create-admin", "--email", "A@Example.com", "--password-stdin"
    )
    assert (code, out, err) == (0, "created admin a@example.com\n", "")

    monkeypatch.setattr(sys, "stdin", io.StringIO("another good password\n"))
    second = run_json(
        capsys, "users", "create-admin", "--email", "b@example.com", "--password-stdin"
    )
    assert second == {"email": "b@example.com", "role": "admin"}
    assert accounts() == [
        ("a@example.com", Role.ADMIN, "local"),
        ("b@example.com", Role.ADMIN, "local"),
    ]
    store = open_services(load_settings()).store
    policy = users.LockoutPolicy()
    assert users.authenticate(store, "a@example.com", PASSWORD, policy).role is Role.ADMIN
    assert users.authenticate(store, "b@example.com", "another good password", policy).id


def test_create_admin_with_a_short_password_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    result = run(capsys, "users", "create-admin", "--email", "a@example.com", "--password-stdin")
    assert_one_line_error(result, "Choose a password of at least 10 characters.")
    assert accounts() == []


def test_create_admin_needs_an_email_and_a_password(capsys, monkeypatch):
    assert_one_line_error(run(capsys, "users", "create-admin"), "Give the admin's address")
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    result = run(capsys, "users", "create-admin", "--email", "nope", "--password-stdin")
    assert_one_line_error(result, "'nope' is not an email address.")
    assert accounts() == []


def test_create_admin_reads_the_password_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("BEACON_ADMIN_PASSWORD", PASSWORD)
    assert run(capsys, "users", "create-admin", "--email", "env@example.com")[0] == 0
    assert accounts() == [("env@example.com", Role.ADMIN, "local")]


def test_second_create_admin_with_an_empty_password_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    run(capsys, "users", "create-admin", "--email", "a@example.com", "--password-stdin")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    result = run(capsys, "users", "create-admin", "--email", "b@example.com", "--password-stdin")
    assert_one_line_error(result, "Choose a password of at least 10 characters.")


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --- the real entry point ---------------------------------------------------------------


def test_python_dash_m_core_entry_point(beacon_home, orders_csv, write_file):
    env = dict(os.environ)  # carries BEACON_HOME and BEACON_SECRETS_FILE from the fixture
    assert env["BEACON_HOME"] == str(beacon_home)

    def core(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = core("ingest", str(orders_csv), "--json")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert json.loads(done.stdout) == ORDERS_JSON
    # The state landed in this test's BEACON_HOME, where the in-process services see it.
    assert (beacon_home / "beacon.db").is_file()
    assert open_services(load_settings()).catalog.get(SYSTEM, "orders").rows == 3

    failed = core("ingest", str(write_file("ragged.csv", "a,b,c\n1,2,3\n4,5\n")))
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: Line 3 has 2 fields but the header has 3")
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr

"""`python -m core workflow validate|run|list|history|export|token`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.auth.roles import User
from core.cli import main
from tests.conftest import ROOT

GOOD = """\
name: cli-flow
variables: {limit: 100}
steps:
  - {id: total, type: query, params: {sql: "select sum(amount) as total from orders"}}
  - {id: big, type: condition, params: {expr: "{{ steps.total.output.rows[0].total > variables.limit }}"}, depends_on: [total]}
  - {id: report, type: export_report, params: {sql: "select * from orders", format: csv}, depends_on: [big], when: "{{ steps.big.output }}"}
"""  # noqa: E501
BAD = "name: cli-flow\nsteps:\n  - {id: mail, type: notify, params: {}, depends_on: [ghost]}\n"
FAILING = (
    "name: failing\nsteps:\n  - {id: broken, type: query, params: {sql: 'select * from nowhere'}}\n"
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(write_file, services):
    services.catalog.ingest_file(
        User.system(), write_file("orders.csv", "order_id,amount\n1,60\n2,70\n")
    )
    return {
        "good": write_file("good.yaml", GOOD),
        "bad": write_file("bad.yaml", BAD),
        "failing": write_file("failing.yaml", FAILING),
    }


def test_validate_accepts_a_good_file_and_names_the_step_of_a_bad_one(capsys, files):
    code, out, err = run(capsys, "workflow", "validate", str(files["good"]), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "valid": True,
        "name": "cli-flow",
        "steps": ["total", "big", "report"],
        "triggers": ["manual"],
    }
    code, out, err = run(capsys, "workflow", "validate", str(files["bad"]))
    assert (code, out) == (2, "")
    assert err == "error: Step 'mail': depends on 'ghost', which is not a step.\n"


def test_run_wait_executes_each_step_in_a_child_and_reports_it(capsys, files):
    code, out, err = run(capsys, "workflow", "run", str(files["good"]), "--wait", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert (result["workflow"], result["status"], result["trigger"]) == (
        "cli-flow",
        "succeeded",
        "manual",
    )
    steps = {s["id"]: s for s in result["steps"]}
    assert [s["status"] for s in result["steps"]] == ["succeeded"] * 3
    assert steps["total"]["output"] == "1 row(s)" and steps["big"]["output"] == "true"
    assert steps["report"]["output"].endswith("/report.csv")
    assert all(s["attempts"] == 1 and s["duration_ms"] >= 0 for s in result["steps"])

    code, out, _ = run(capsys, "workflow", "history", "cli-flow", "--json")
    (summary,) = json.loads(out)
    assert (summary["run"], summary["status"], summary["steps"]) == (
        result["run"],
        "succeeded",
        "3/3",
    )
    code, out, _ = run(capsys, "workflow", "list", "--json")
    assert [(w["name"], w["last_run"]["status"]) for w in json.loads(out)] == [
        ("cli-flow", "succeeded")
    ]


def test_a_failed_run_exits_1_with_the_step_error(capsys, files):
    code, out, _ = run(capsys, "workflow", "run", str(files["failing"]), "--wait")
    assert code == 1
    assert "broken\tfailed\t1 attempt(s)" in out and "The query failed" in out


def test_export_and_token(capsys, files):
    run(capsys, "workflow", "run", str(files["good"]))
    code, out, _ = run(capsys, "workflow", "export", "cli-flow")
    assert code == 0 and out.startswith("name: cli-flow\n")
    code, _, err = run(capsys, "workflow", "webhook-token", "cli-flow")
    assert code == 2 and "no webhook trigger" in err
    code, _, err = run(capsys, "workflow", "history", "nope")
    assert (code, err) == (2, "error: No workflow named 'nope'.\n")


def test_python_m_core_workflow_validate(files, beacon_home):
    env = {k: v for k, v in os.environ.items()}
    completed = subprocess.run(
        [sys.executable, "-m", "core", "workflow", "validate", str(files["bad"])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert (
        completed.stderr.strip() == "error: Step 'mail': depends on 'ghost', which is not a step."
    )

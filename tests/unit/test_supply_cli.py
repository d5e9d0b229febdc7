"""`python -m core supply SOURCE...`: per-SKU policy and the risk register, JSON and text."""

from __future__ import annotations

import json

import pytest

from core.auth.roles import Role, User
from core.cli import main
from core.data.samples import load_sample
from core.supply_chain import overview, register
from core.supply_chain.inputs import load_inputs
from core.supply_chain.register import RegisterEdit

SAMPLE = [
    "sample_orders",
    "sample_inventory",
    "sample_products",
    "sample_suppliers",
    "sample_shipments",
]


@pytest.fixture
def sample(services):
    load_sample(services.catalog, User.system())
    return services


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_policy_risks_and_carbon(capsys, sample):
    code, out, err = run(capsys, "supply", *SAMPLE, "--json")
    assert code == 0, err
    payload = json.loads(out)  # strict JSON: no NaN or Infinity
    assert len(payload["policy"]) == 243
    first = payload["policy"][0]
    assert {
        "sku",
        "safety_stock",
        "reorder_point",
        "eoq",
        "days_of_cover",
        "stockout_probability",
    } <= set(first)
    assert 0 <= first["stockout_probability"] <= 1
    risks = payload["risks"]
    assert {r["type"] for r in risks} >= {"concentration", "country", "logistics", "compliance"}
    assert [r["score"] for r in risks] == sorted((r["score"] for r in risks), reverse=True)
    assert all(r["status"] == "open" and r["reasoning"] for r in risks)
    assert payload["carbon"]["factor_table_version"] == 0 and payload["carbon"]["kg_co2e"] > 0
    assert payload["missing"] == {}


def test_a_higher_fill_rate_target_holds_more_safety_stock(capsys, sample):
    def stock(*extra) -> dict[str, float]:
        code, out, err = run(capsys, "supply", *SAMPLE, "--json", *extra)
        assert code == 0, err
        return {r["sku"]: r["safety_stock"] for r in json.loads(out)["policy"]}

    low, high = stock("--fill-rate", "0.9"), stock("--fill-rate", "0.995")
    assert all(high[sku] >= low[sku] for sku in low)
    assert sum(high.values()) > sum(low.values())


def test_register_fields_show_up(capsys, sample):
    _, out, _ = run(capsys, "supply", *SAMPLE, "--json")
    first = json.loads(out)["risks"][0]
    analyst = User(id=9, email="ana@example.com", role=Role.ANALYST)
    check = overview.run_for(sample.store, analyst, load_inputs(sample, analyst, SAMPLE))
    register.sync(sample.store, analyst, "sample_suppliers", check.assessment)
    edit = RegisterEdit(first["risk_id"], owner="Kim", status="accepted")
    register.update(sample.store, analyst, "sample_suppliers", [edit])
    _, out, _ = run(capsys, "supply", *SAMPLE, "--json")
    again = {r["risk_id"]: r for r in json.loads(out)["risks"]}[first["risk_id"]]
    assert (again["owner"], again["status"]) == ("Kim", "accepted")


def test_text_output_and_a_subset(capsys, sample):
    code, out, _ = run(capsys, "supply", "sample_suppliers")
    assert code == 0
    assert "(no inventory policy)" in out and "risks (" in out
    assert "note (policy): Needs orders" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["supply", "nope"], "error: No dataset named 'nope'"),
        (
            ["supply", "sample_customers"],
            "error: sample_customers is none of the supply-chain tables",
        ),
        (
            ["supply", "sample_orders", "--service-level", "1.5"],
            "error: The service level must be between 0 and 1",
        ),
        (
            ["supply", "sample_orders", "--fill-rate", "1"],
            "error: The fill rate must be between 0 and 1",
        ),
    ],
)
def test_errors_exit_2(capsys, sample, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(message) and len(err.strip().splitlines()) == 1

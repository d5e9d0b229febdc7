"""Loading the sample company into the catalog, from core and from the CLI."""

from __future__ import annotations

import json

from core.auth.roles import User
from core.cli import main
from core.data.samples import load_sample, sample_pending

SYSTEM = User.system()


def test_sample_loads_with_the_roles_pages_need(services):
    assert sample_pending(services.catalog)
    loaded = {d.name: d for d in load_sample(services.catalog, SYSTEM)}
    assert not sample_pending(services.catalog)
    orders = loaded["sample_orders"]
    assert orders.rows >= 100_000
    assert {r: orders.column_for(r) for r in ("date", "customer_id", "order_id", "amount",
                                               "quantity", "sku", "category", "region",
                                               "channel")} == {
        "date": "order_date", "customer_id": "customer_id", "order_id": "order_id",
        "amount": "amount", "quantity": "quantity", "sku": "sku", "category": "category",
        "region": "region", "channel": "channel",
    }  # fmt: skip
    assert loaded["sample_inventory"].column_for("on_hand") == "on_hand"
    assert loaded["sample_suppliers"].column_for("lead_time_days") == "lead_time_mean_days"


def test_cli_sample_load_if_empty_runs_once(services, capsys):
    assert main(["sample", "load", "--if-empty", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["loaded"]) == 6
    assert main(["sample", "load", "--if-empty", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"loaded": []}

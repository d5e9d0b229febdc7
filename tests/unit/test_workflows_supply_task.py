"""The supply_check step runs the policy and risks and can refresh the register."""

from __future__ import annotations

import pytest

from core.auth.roles import Role, User
from core.data.samples import load_sample
from core.errors import PermissionDenied, UserInputError
from core.supply_chain import register
from core.workflows.tasks.base import StepContext, task_type

SYSTEM = User.system()


def run(services, user=SYSTEM, **params):
    ctx = StepContext(services=services, user=user, workflow="w", run_id=1, step_id="s", attempt=1)
    task = task_type("supply_check")
    return task.run(ctx, task.params.model_validate(params))


def test_supply_check_reports_and_refreshes_the_register(services):
    load_sample(services.catalog, SYSTEM)
    out = run(services, min_risk_score=20, refresh_register=True)
    assert out["skus"] == 243 and out["skus_at_risk"] > 50
    assert len(out["at_risk"]) == 50  # capped, most likely stock-outs first
    probabilities = [r["stockout_probability"] for r in out["at_risk"]]
    assert probabilities == sorted(probabilities, reverse=True) and min(probabilities) >= 0.5
    assert all(r["score"] >= 20 for r in out["top_risks"])
    assert out["register"] == "sample_suppliers" and out["kg_co2e"] > 0
    assert len(register.entries(services.store, SYSTEM, "sample_suppliers")) == out["register_size"]
    viewer = User(id=5, email="v@example.com", role=Role.VIEWER)
    assert run(services, user=viewer)["skus"] == 243  # reading is fine
    with pytest.raises(PermissionDenied):
        run(services, user=viewer, refresh_register=True)


def test_supply_check_bad_input(services):
    load_sample(services.catalog, SYSTEM)
    with pytest.raises(UserInputError, match="none of the supply-chain tables"):
        run(services, datasets="sample_customers")
    with pytest.raises(ValueError):
        run(services, service_level=1.5)

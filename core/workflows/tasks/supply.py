"""Supply check step: inventory policy and risks of the supply-chain datasets.

Outputs the SKUs likely to stock out, the orders to place and the risks at or above a
score, so a condition or notification step can act on them; with `refresh_register`
the assessment is written into the risk register (keeping its owners and notes).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.workflows.tasks.base import Params, StepContext, TaskType, register

MAX_ROWS_IN_OUTPUT = 50


class SupplyCheckParams(Params):
    datasets: str = Field(
        "", title="Datasets", description="Comma-separated names; empty: the sample company's"
    )
    service_level: float = Field(0.95, gt=0, lt=1, title="Cycle service level")
    min_risk_score: int = Field(15, ge=1, le=25, title="Report risks scoring at least")
    refresh_register: bool = Field(False, title="Write the risks into the register")


def run_supply_check(ctx: StepContext, params: SupplyCheckParams) -> dict[str, Any]:
    from core.supply_chain import overview
    from core.supply_chain import register as risk_register
    from core.supply_chain.inputs import load_inputs
    from core.supply_chain.policy import PolicySettings

    names = [n.strip() for n in params.datasets.split(",") if n.strip()] or None
    data = load_inputs(ctx.services, ctx.user, names)
    check = overview.run_for(
        ctx.services.store, ctx.user, data, PolicySettings(service_level=params.service_level)
    )
    overview.require_any(check)
    at_risk = [
        r for r in overview.policy_rows(check) if (r.get("stockout_probability") or 0) >= 0.5
    ]
    at_risk.sort(key=lambda r: -(r["stockout_probability"] or 0))
    risks = [r for r in overview.risk_rows(check) if r["score"] >= params.min_risk_score]
    out: dict[str, Any] = {
        "sources": check.sources,
        "skus": len(check.policy.table) if check.policy is not None else 0,
        "skus_at_risk": len(at_risk),
        "at_risk": at_risk[:MAX_ROWS_IN_OUTPUT],
        "orders": 0 if check.policy is None else len(check.policy.recommended_orders),
        "risks": len(risks),
        "top_risks": risks[:MAX_ROWS_IN_OUTPUT],
        "kg_co2e": None if check.emissions is None else round(check.emissions.total_kg, 3),
    }
    if params.refresh_register and check.assessment is not None:
        scope = overview.register_scope(data)
        out["register"] = scope
        out["register_size"] = len(
            risk_register.sync(ctx.services.store, ctx.user, scope, check.assessment)
        )
    ctx.log(
        f"{out['skus_at_risk']} SKUs likely to stock out; "
        f"{out['risks']} risks scoring {params.min_risk_score} or more"
    )
    return out


register(
    TaskType(
        name="supply_check",
        label="Supply check",
        help="Inventory policy and supply risks: SKUs likely to stock out and the top risks.",
        params=SupplyCheckParams,
        run=run_supply_check,
    )
)

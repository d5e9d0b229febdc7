"""Control-flow steps: a condition (true/false output for `when:` downstream) and a wait."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.workflows.tasks.base import Params, StepContext, TaskType, register
from core.workflows.templating import truthy


class ConditionParams(Params):
    expr: str = Field(
        title="Expression",
        description="A template that renders true or false, e.g. "
        "{{ steps.revenue.output.rows[0].revenue < variables.threshold }}",
    )


def run_condition(ctx: StepContext, params: ConditionParams) -> bool:
    # The engine has rendered the template already; what is left is true/false text.
    result = truthy(params.expr, where="expr")
    ctx.log(f"condition is {str(result).lower()}")
    return result


register(
    TaskType(
        name="condition",
        label="Condition",
        help="Decide a branch: outputs true or false; later steps use it in their 'when'.",
        params=ConditionParams,
        run=run_condition,
    )
)


class WaitParams(Params):
    seconds: float = Field(title="Seconds", ge=0, le=7 * 86_400, description="How long to wait")


def run_wait(ctx: StepContext, params: WaitParams) -> dict[str, Any]:
    ctx.log(f"waiting {params.seconds:g} s")
    ctx.clock.sleep(params.seconds)
    return {"waited_seconds": params.seconds}


register(
    TaskType(
        name="wait",
        label="Wait",
        help="Pause before the next steps (bounded by the step's timeout).",
        params=WaitParams,
        run=run_wait,
    )
)

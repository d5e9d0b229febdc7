"""Running one claimed step: render its templates, validate its parameters, run its task.

This is what a worker's child process does with a claim. Every error becomes an
Outcome (the step's log keeps the detail); nothing escapes to the worker.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from core.auth import users
from core.auth.roles import Role, User, require
from core.auth.users import normalise_email
from core.errors import BeaconError, UserInputError
from core.store.models import UserRow
from core.workflows import templating
from core.workflows.definition import StepDef
from core.workflows.engine import Claim, Outcome
from core.workflows.tasks.base import Clock, StepContext, SystemClock, task_type

log = logging.getLogger(__name__)


class _LogBuffer(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


def acting_user(services: Any, owner: str) -> User:
    """The account a workflow's runs act as (its owner), as it is now."""
    if owner == User.system().email:
        return User.system()
    with services.store.session() as s:
        user_id = s.scalar(select(UserRow.id).where(UserRow.email == normalise_email(owner)))
    if user_id is None:
        raise UserInputError(f"The workflow's owner {owner} no longer has an account.")
    return users.get_user(services.store, user_id)


def _param_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"params.{where}: {error['msg'].removeprefix('Value error, ').lower()}"


def execute(services: Any, claim: Claim, clock: Clock | None = None) -> Outcome:
    """Run a claimed step to its outcome: succeeded (with output), skipped or failed."""
    clock = clock or SystemClock()
    started = time.perf_counter()
    lines: list[str] = []
    handler = _LogBuffer(lines)
    core_log = logging.getLogger("core")
    core_log.addHandler(handler)
    step = StepDef.model_validate(claim.step)
    cfg = services.settings.workflows
    limits = templating.Limits(cfg.template_max_chars, cfg.template_seconds)

    def done(status: str, **kwargs: Any) -> Outcome:
        core_log.removeHandler(handler)
        elapsed = int((time.perf_counter() - started) * 1000)
        return Outcome(status, duration_ms=elapsed, log="\n".join(lines), **kwargs)

    try:
        if step.when is not None:
            rendered = templating.render(step.when, claim.context, limits=limits, where="when")
            if not templating.truthy(rendered, where="when"):
                lines.append(f"skipped: 'when' rendered {rendered.strip()!r}")
                return done("skipped")
        params = templating.render_value(step.params, claim.context, limits=limits, where="params")
        task = task_type(step.type)
        try:
            parsed = task.params.model_validate(params)
        except ValidationError as exc:
            return done("failed", error=_param_problem(exc), retryable=False)
        user = acting_user(services, claim.owner)
        require(user, Role.ANALYST, f"Running workflow {claim.workflow} as {user.email}")
        context = StepContext(
            services=services,
            user=user,
            workflow=claim.workflow,
            run_id=claim.run_id,
            step_id=claim.step_id,
            attempt=claim.attempt,
            clock=clock,
            log=lines.append,
        )
        output = task.run(context, parsed)
        return done("succeeded", output=output)
    except templating.TemplateProblem as exc:
        return done("failed", error=str(exc), retryable=False)
    except BeaconError as exc:
        lines.append(f"error: {exc}")
        return done("failed", error=str(exc))
    except Exception as exc:  # a bug in a task: keep the traceback in the step's log
        lines.append(traceback.format_exc(limit=8))
        return done("failed", error=f"{type(exc).__name__}: {exc}"[:500])

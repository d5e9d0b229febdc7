"""Starting a run from a webhook call: what the machine API's route calls.

The route passes the workflow name from the URL, the bearer token from the request,
the JSON body and, optionally, an idempotency key; a repeated key returns the run it
started the first time instead of starting another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import audit
from core.errors import UserInputError
from core.store.models import utcnow
from core.workflows.models import WorkflowRunRow
from core.workflows.runs import NewRun, create_run
from core.workflows.service import webhook_workflow
from core.workflows.state import definition_of

MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class WebhookRun:
    """The run a webhook call started (or had started, for a repeated idempotency key)."""

    workflow: str
    run_id: int
    status: str
    duplicate: bool


def trigger_webhook(
    services: Any,
    workflow: str,
    token: str,
    payload: dict[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
) -> WebhookRun:
    """Start a run of `workflow` with `payload` as its trigger data, if `token` is valid.

    Raises PermissionDenied for a wrong token or unknown workflow (the same message, so
    names cannot be probed) and UserInputError for a disabled workflow, one without a
    webhook trigger, or a payload that is not a JSON object of at most 64 KB.
    """
    payload = {} if payload is None else payload
    if not isinstance(payload, dict):
        raise UserInputError("The webhook body must be a JSON object.")
    if len(json.dumps(payload, default=str).encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise UserInputError("The webhook body is larger than 64 KB.")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 100:
        raise UserInputError("An idempotency key has 1-100 characters.")
    now = utcnow()
    with services.store.writing() as s:
        row = webhook_workflow(s, workflow, token)
        definition = definition_of(s, row.id, row.current_version)
        if not any(t.type == "webhook" for t in definition.triggers):
            raise UserInputError(f"{workflow} has no webhook trigger.")
        if not row.enabled:
            raise UserInputError(f"{workflow} is disabled.")
        key = f"webhook:{idempotency_key}" if idempotency_key else None
        run_id = create_run(s, row, NewRun("webhook", payload, dedupe_key=key), now)
        duplicate = run_id is None
        if duplicate:
            run_id = s.scalar(
                select(WorkflowRunRow.id).where(
                    WorkflowRunRow.workflow_id == row.id, WorkflowRunRow.dedupe_key == key
                )
            )
        else:
            audit.record(s, "webhook", "workflow.webhook", workflow, run=run_id)
        status = s.scalar(select(WorkflowRunRow.status).where(WorkflowRunRow.id == run_id))
        return WebhookRun(workflow, run_id, status, duplicate)

"""Workflow webhooks: `POST /v1/webhooks/{workflow}`, authenticated by the workflow's secret.

Each workflow with a webhook trigger has its own secret (issued on the Workflows page or
with `python -m core workflow webhook-token NAME`). A caller sends it and signs the
delivery with it:

    Authorization: Bearer <workflow secret>
    X-Beacon-Timestamp: 1764236400                    (Unix seconds, now)
    X-Beacon-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
    Idempotency-Key: <optional, up to 100 characters>

Beacon refuses a missing or wrong signature (401), a timestamp more than five minutes
away from its clock (401: an old capture replayed), and a signature it has already
accepted (409: the same delivery replayed within the window); the workflow engine
then checks the secret itself and starts the run (a repeated Idempotency-Key returns
the run it started the first time). The body must be a JSON object (or empty).

The engine plugs in through `WebhookReceiver`; `create_app` uses the workflow engine's
`trigger_webhook` unless it is given another receiver (tests give a fake one).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from fastapi import APIRouter, Request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from core.api import schemas
from core.api.security import context, refuse, throttle
from core.errors import PermissionDenied
from core.fleet.models import WebhookDeliveryRow
from core.store import Store
from core.store.models import utcnow

TOLERANCE_SECONDS = 300
TIMESTAMP_HEADER = "x-beacon-timestamp"
SIGNATURE_HEADER = "x-beacon-signature"
IDEMPOTENCY_HEADER = "idempotency-key"

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookReceiver(Protocol):
    """What the workflow engine provides to receive webhooks."""

    def trigger(
        self, workflow: str, secret: str, payload: dict[str, Any], idempotency_key: str | None
    ) -> str:
        """Start a run of `workflow` if `secret` is its webhook secret; returns the run id.

        Raises PermissionDenied for a wrong secret or an unknown workflow.
        """
        ...


@dataclass(frozen=True, slots=True)
class WorkflowReceiver:
    """The workflow engine's webhook entry point (core.workflows.webhook)."""

    services: Any

    def trigger(
        self, workflow: str, secret: str, payload: dict[str, Any], idempotency_key: str | None
    ) -> str:
        from core.workflows.webhook import trigger_webhook

        run = trigger_webhook(
            self.services, workflow, secret, payload, idempotency_key=idempotency_key
        )
        return str(run.run_id)


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The X-Beacon-Signature value for a delivery."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_signature(
    secret: str | bytes, timestamp: str, signature: str, body: bytes, now: float
) -> str | None:
    """None if the delivery is authentic and fresh, else why not."""
    try:
        sent = int(timestamp)
    except ValueError:
        return "X-Beacon-Timestamp must be Unix seconds."
    if abs(now - sent) > TOLERANCE_SECONDS:
        return "The delivery is too old or its clock is off (more than 5 minutes)."
    if not hmac.compare_digest(sign(secret, sent, body), signature.strip()):
        return "The signature does not match."
    return None


def _digest(signature: str) -> str:
    return hashlib.sha256(signature.encode("ascii", "replace")).hexdigest()


def forget_delivery(store: Store, signature: str) -> None:
    """Drop a remembered signature (its run could not be started, so a retry is no replay)."""
    with store.session() as s:
        s.execute(
            delete(WebhookDeliveryRow).where(
                WebhookDeliveryRow.signature_hash == _digest(signature)
            )
        )


def remember_delivery(store: Store, signature: str, workflow: str) -> bool:
    """Record an accepted signature; False if it was seen before (a replay)."""
    now = utcnow()
    digest = _digest(signature)
    try:
        with store.session() as s:
            cutoff = now - timedelta(seconds=2 * TOLERANCE_SECONDS)
            s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.received_at < cutoff))
            s.add(WebhookDeliveryRow(signature_hash=digest, workflow=workflow, received_at=now))
    except IntegrityError:
        return False
    return True


@router.post("/{workflow}", status_code=202, response_model=schemas.WebhookOut)
async def receive(workflow: str, request: Request) -> schemas.WebhookOut:
    """Start a workflow run from a signed delivery."""
    ctx = context(request)
    throttle(ctx, f"webhook:{workflow}")
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if scheme.lower() != "bearer" or not secret.strip() or not timestamp or not signature:
        raise refuse(
            ctx,
            request,
            "Send the workflow's secret as 'Authorization: Bearer …' and sign the delivery "
            "(X-Beacon-Timestamp, X-Beacon-Signature).",
        )
    secret = secret.strip()
    body = await request.body()
    problem = check_signature(secret, timestamp, signature, body, utcnow().timestamp())
    if problem:
        raise refuse(ctx, request, problem)
    try:
        payload = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, "The body must be a JSON object.")
    store = ctx.services.store
    if not await asyncio.to_thread(remember_delivery, store, signature, workflow):
        raise HTTPException(409, "This delivery was already received (replay refused).")
    receiver: WebhookReceiver = ctx.receiver or WorkflowReceiver(ctx.services)  # type: ignore[assignment]
    key = request.headers.get(IDEMPOTENCY_HEADER) or None
    try:
        run = await asyncio.to_thread(receiver.trigger, workflow, secret, payload, key)
    except PermissionDenied as exc:
        raise refuse(ctx, request, str(exc)) from None
    except BaseException:
        await asyncio.to_thread(forget_delivery, store, signature)
        raise
    request.state.principal = f"webhook:{workflow}"
    return schemas.WebhookOut(run=str(run))

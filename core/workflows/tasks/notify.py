"""Notify step: an email through the configured SMTP server, or a Slack-compatible webhook."""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from core.errors import IntegrationError, UserInputError
from core.workflows.tasks import http
from core.workflows.tasks.base import Params, StepContext, TaskType, register

SMTP_TIMEOUT_SECONDS = 30
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class NotifyParams(Params):
    channel: Literal["email", "webhook"] = Field("email", title="Channel")
    to: str = Field("", title="To", description="Email addresses, comma-separated (email channel)")
    subject: str = Field("", title="Subject")
    body: str = Field("", title="Message", json_schema_extra={"multiline": True})
    url: str = Field(
        "", title="Webhook URL", description="Slack-compatible incoming webhook (allowed host)"
    )
    attach: str = Field(
        "",
        title="Attachment",
        description="An artifact of this workflow, e.g. {{ steps.report.output.path }}",
    )


def _recipients(text: str) -> list[str]:
    found = [a.strip() for a in text.replace(";", ",").split(",") if a.strip()]
    bad = [a for a in found if "@" not in a or any(c in a for c in " <>\r\n")]
    if not found or bad:
        raise UserInputError(
            f"Give the email recipients as addresses separated by commas"
            f"{'; not an address: ' + bad[0] if bad else ''}."
        )
    return found


def _attachment(ctx: StepContext, relative: str) -> Path:
    root = (ctx.settings.home / "artifacts").resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise UserInputError(f"{relative!r} is not a file in the artifact store.")
    if path.stat().st_size > MAX_ATTACHMENT_BYTES:
        raise UserInputError(f"{path.name} is larger than the 20 MB attachment limit.")
    return path


def send_email(ctx: StepContext, params: NotifyParams) -> dict[str, Any]:
    """Send one email through BEACON_SMTP_*; returns who it went to."""
    cfg = ctx.settings.workflows
    if not cfg.smtp_host:
        raise UserInputError("Email is off: an admin sets BEACON_SMTP_HOST (and the SMTP login).")
    recipients = _recipients(params.to)
    message = EmailMessage()
    message["From"] = cfg.smtp_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = " ".join(params.subject.split())[:300] or f"Beacon: {ctx.workflow}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=cfg.smtp_from.rpartition("@")[2] or None)
    message.set_content(params.body or message["Subject"])
    if params.attach:
        path = _attachment(ctx, params.attach)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, _, sub = kind.partition("/")
        extra = {"params": {"charset": "utf-8"}} if main == "text" else {}  # exports are UTF-8
        message.add_attachment(
            path.read_bytes(), maintype=main, subtype=sub, filename=path.name, **extra
        )
    try:
        if cfg.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(
                cfg.smtp_host,
                cfg.smtp_port,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        with server:
            if cfg.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                password = cfg.smtp_password.reveal() if cfg.smtp_password else ""
                server.login(cfg.smtp_user, password)
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise IntegrationError(
            f"SMTP server {cfg.smtp_host}:{cfg.smtp_port} failed: {str(exc)[:200]}"
        ) from None
    delivered = [r for r in recipients if r not in refused]
    ctx.log(f"email to {', '.join(delivered)}: {message['Subject']}")
    return {"channel": "email", "to": delivered, "subject": str(message["Subject"])}


def send_webhook(ctx: StepContext, params: NotifyParams) -> dict[str, Any]:
    """Post {"text": ...} (Slack, Mattermost, Teams workflows, Discord's /slack)."""
    if not params.url:
        raise UserInputError("Give the webhook URL of the channel to notify.")
    text = "\n\n".join(part for part in (params.subject, params.body) if part) or ctx.workflow
    response = http.send(ctx, "POST", params.url, body={"text": text}, timeout=30)
    if not 200 <= response.status_code < 300:
        raise IntegrationError(
            f"The webhook answered {response.status_code}: {response.text[:200]}"
        )
    return {"channel": "webhook", "status": response.status_code, "text": text[:500]}


def run_notify(ctx: StepContext, params: NotifyParams) -> dict[str, Any]:
    return send_email(ctx, params) if params.channel == "email" else send_webhook(ctx, params)


register(
    TaskType(
        name="notify",
        label="Notify",
        help="Send an email (SMTP) or post to a Slack-compatible webhook.",
        params=NotifyParams,
        run=run_notify,
    )
)

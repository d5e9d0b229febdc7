"""HTTP-request step, and the host allow-list every outgoing workflow call goes through.

Workflows may call only hosts an admin listed in BEACON_WORKFLOW_HTTP_ALLOWED_HOSTS
(`api.example.com`, `*.example.com` for subdomains, `host:port` to pin a port).
Redirects are not followed (a redirect could leave the allow-list), and every call has
a timeout.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any, Literal

import httpx
from pydantic import Field

from core.errors import IntegrationError, UserInputError
from core.workflows.tasks.base import Params, StepContext, TaskType, register

MAX_BODY_CHARS = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


def host_allowed(url: httpx.URL, allowed: Sequence[str]) -> bool:
    """Whether the URL's host (and port) is on the allow-list."""
    host = (url.host or "").lower().rstrip(".")
    port = url.port or DEFAULT_PORTS.get(url.scheme)
    for entry in allowed:
        name, _, pinned = entry.lower().partition(":")
        if pinned and str(port) != pinned:
            continue
        if name.startswith("*.") and host.endswith(name[1:]) and host != name[2:]:
            return True
        if host == name:
            return True
    return False


def checked_url(raw: str, allowed: Sequence[str]) -> httpx.URL:
    """Parse a URL and refuse it unless it is http(s) to an allowed host."""
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise UserInputError(f"{raw!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise UserInputError(f"{raw!r} is not an http(s) URL.")
    if not allowed:
        raise UserInputError(
            "Workflows may not call any host yet: an admin lists the allowed hosts in "
            "BEACON_WORKFLOW_HTTP_ALLOWED_HOSTS."
        )
    if not host_allowed(url, allowed):
        raise UserInputError(
            f"{url.host} is not in BEACON_WORKFLOW_HTTP_ALLOWED_HOSTS "
            f"({', '.join(allowed)}): ask an admin to add it."
        )
    return url


def send(
    ctx: StepContext,
    method: str,
    raw_url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    timeout: float = 30.0,
) -> httpx.Response:
    """One HTTP call to an allowed host (no redirects, bounded time)."""
    url = checked_url(raw_url, ctx.settings.workflows.http_allowed_hosts)
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if isinstance(body, dict | list):
        kwargs["json"] = body
    elif body not in (None, ""):
        kwargs["content"] = str(body).encode("utf-8")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise IntegrationError(f"{method} {url.host}: no answer within {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        raise IntegrationError(f"{method} {url.host} failed: {exc}") from None
    ctx.log(f"{method} {url.copy_with(query=None)} -> {response.status_code}")
    return response


class HttpParams(Params):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = Field("GET", title="Method")
    url: str = Field(title="URL", description="Its host must be in the admin's allow-list")
    headers: dict[str, str] = Field(default_factory=dict, title="Headers")
    body: str | dict[str, Any] | list[Any] | None = Field(
        None,
        title="Body",
        description="Text, or a mapping/list sent as JSON",
        json_schema_extra={"multiline": True},
    )
    expected_status: list[int] = Field(
        default_factory=list,
        title="Expected status",
        description="Status codes that count as success; empty means any 2xx",
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, title="Timeout (s)")


def run_http(ctx: StepContext, params: HttpParams) -> dict[str, Any]:
    response = send(
        ctx,
        params.method,
        params.url,
        headers=params.headers,
        body=params.body,
        timeout=params.timeout_seconds,
    )
    status = response.status_code
    ok = status in params.expected_status if params.expected_status else 200 <= status < 300
    if not ok:
        expected = ", ".join(map(str, params.expected_status)) or "2xx"
        raise IntegrationError(
            f"{params.method} {response.request.url.host} answered {status}; expected {expected}."
        )
    text = response.text[:MAX_BODY_CHARS]
    output: dict[str, Any] = {
        "status": status,
        "content_type": response.headers.get("content-type", ""),
        "body": text,
        "body_truncated": len(response.text) > MAX_BODY_CHARS,
    }
    if "json" in output["content_type"] and not output["body_truncated"]:
        with contextlib.suppress(ValueError):
            output["json"] = json.loads(text)
    return output


register(
    TaskType(
        name="http",
        label="HTTP request",
        help="Call a web API on an allowed host; fails unless the status is as expected.",
        params=HttpParams,
        run=run_http,
    )
)

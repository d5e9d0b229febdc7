"""Who is calling the machine API, and how often they may.

Devices send their credential, automation sends an API key or a JWT, each as
`Authorization: Bearer …`. Every credential has its own token bucket (checked before
the store is asked, keyed by the credential's hash); failed attempts also drain a
bucket per client address, so guessing is slowed down before it costs a lookup.

Heartbeats, the hot path, look the credential up in a small cache instead of the
store; the heartbeat writer re-checks every cached credential against the store in the
transaction that saves the heartbeat, so a revoked or rotated credential is refused
at once all the same (core.fleet.heartbeats).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from core.api.ratelimit import TokenBucketLimiter, retry_after
from core.errors import PermissionDenied, UserInputError
from core.fleet import devices, service_accounts, tokens
from core.fleet.devices import DeviceIdentity
from core.fleet.heartbeats import HeartbeatSink
from core.fleet.service_accounts import Principal
from core.fleet.tokens import TokenHasher
from core.services import Services

BEARER = {"WWW-Authenticate": "Bearer"}
M = TypeVar("M", bound=BaseModel)


class CredentialCache:
    """Recently seen device credentials (by hash) -> identity, for `max_age` seconds."""

    def __init__(self, max_age: float = 300.0, max_entries: int = 100_000) -> None:
        self.max_age, self.max_entries = max_age, max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[DeviceIdentity, float]] = OrderedDict()

    def get(self, digest: str) -> DeviceIdentity | None:
        with self._lock:
            found = self._entries.get(digest)
            if found is None or time.monotonic() - found[1] > self.max_age:
                return None
            return found[0]

    def put(self, digest: str, identity: DeviceIdentity) -> None:
        with self._lock:
            self._entries[digest] = (identity, time.monotonic())
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)


@dataclass(frozen=True, slots=True)
class CallingDevice:
    """A device authenticated for this request, and its credential's hash."""

    identity: DeviceIdentity
    digest: str


@dataclass(slots=True)
class ApiContext:
    """What every request handler needs; built once when the app starts."""

    services: Services
    hasher: TokenHasher
    limiter: TokenBucketLimiter  # per credential
    failures: TokenBucketLimiter  # per client address, for failed authentication
    sink: HeartbeatSink
    receiver: object | None = None  # core.api.webhooks.WebhookReceiver
    credentials: CredentialCache = field(default_factory=CredentialCache)


def context(request: Request) -> ApiContext:
    """The app's context."""
    return request.app.state.ctx


def too_many(wait: float) -> HTTPException:
    """A 429 with Retry-After."""
    return HTTPException(
        429, "Too many requests: slow down.", headers={"Retry-After": retry_after(wait)}
    )


def client_address(request: Request) -> str:
    """The caller's address (the socket peer; proxies are not trusted)."""
    return request.client.host if request.client else "unknown"


def throttle(ctx: ApiContext, key: str) -> None:
    """Take a token from `key`'s bucket or raise 429."""
    wait = ctx.limiter.take(key)
    if wait > 0:
        raise too_many(wait)


def refuse(ctx: ApiContext, request: Request, message: str, status: int = 401) -> HTTPException:
    """A refusal that also drains the caller's failure bucket (429 once it is empty)."""
    wait = ctx.failures.take(client_address(request))
    if wait > 0:
        return too_many(wait)
    return HTTPException(status, message, headers=BEARER if status == 401 else None)


def bearer(request: Request) -> str:
    """The token of an `Authorization: Bearer …` header."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "Send a credential as 'Authorization: Bearer …'.", BEARER)
    return token.strip()


def _device_digest(ctx: ApiContext, request: Request) -> str:
    token = bearer(request)
    if not token.startswith(tokens.DEVICE) or len(token) > 200:
        raise refuse(ctx, request, "That is not a device credential.")
    digest = ctx.hasher.digest(token)
    throttle(ctx, digest)
    return digest


def _authenticated(ctx: ApiContext, request: Request, digest: str) -> DeviceIdentity:
    try:
        identity = devices.authenticate_digest(ctx.services.store, digest)
    except PermissionDenied as exc:
        ctx.credentials.drop(digest)
        raise refuse(ctx, request, str(exc)) from None
    request.state.principal = f"device:{identity.name}"
    return identity


async def device(request: Request) -> DeviceIdentity:
    """The device calling, checked against the store (dependency of device endpoints)."""
    ctx = context(request)
    return _authenticated(ctx, request, _device_digest(ctx, request))


def heartbeat_device(request: Request) -> CallingDevice:
    """The device posting a heartbeat, from the cache when it was seen recently."""
    ctx = context(request)
    digest = _device_digest(ctx, request)
    identity = ctx.credentials.get(digest)
    if identity is None:
        identity = _authenticated(ctx, request, digest)
        ctx.credentials.put(digest, identity)
    request.state.principal = f"device:{identity.name}"
    return CallingDevice(identity, digest)


def parse_body(model: type[M], raw: bytes) -> M:
    """`raw` JSON as `model`; errors read as FastAPI's own body errors (400 or 422)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def service(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting API keys and JWTs that hold `scope`."""

    async def principal(request: Request) -> Principal:
        found = await authenticate_service(request)
        if scope not in found.scopes:
            raise HTTPException(403, f"This key lacks the {scope} scope.")
        return found

    principal.__name__ = f"service_{scope.replace(':', '_')}"
    return principal


async def authenticate_service(request: Request) -> Principal:
    """The service account calling, by API key or JWT (rate-limited per account)."""
    ctx = context(request)
    token = bearer(request)
    if len(token) > 4096:
        raise refuse(ctx, request, "The token is too long.")
    store = ctx.services.store
    try:
        if token.startswith(tokens.API_KEY):
            digest = ctx.hasher.digest(token)
            throttle(ctx, digest)
            found = await asyncio.to_thread(
                service_accounts.authenticate_key, store, ctx.hasher, token
            )
        else:  # the account check may write (last used), so it runs off the event loop
            found = await asyncio.to_thread(
                service_accounts.verify_jwt, store, token, ctx.services.settings.secret_key
            )
            throttle(ctx, f"account:{found.name}")
    except (PermissionDenied, UserInputError) as exc:
        raise refuse(ctx, request, str(exc)) from None
    request.state.principal = f"key:{found.name}"
    return found

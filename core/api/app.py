"""The machine API application: routers, limits, CORS, error shapes and lifecycle."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.api import automation, devices, models_routes, webhooks
from core.api.middleware import AccessLogMiddleware, BodyLimitMiddleware
from core.api.ratelimit import TokenBucketLimiter
from core.api.security import ApiContext
from core.errors import BeaconError, IntegrationError, NotFound, PermissionDenied, UserInputError
from core.fleet.heartbeats import HeartbeatSink
from core.fleet.tokens import TokenHasher
from core.services import Services

log = logging.getLogger(__name__)
FAILED_AUTH_PER_SECOND, FAILED_AUTH_BURST = 1.0, 10
# Most specific first: NotFound is a UserInputError.
ERROR_STATUS = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (UserInputError, 400),
    (IntegrationError, 502),
)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "The body is not valid JSON."
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return 422, f"{where}: {first.get('msg', 'invalid value')}"


def create_app(
    services: Services,
    *,
    sink: HeartbeatSink | None = None,
    receiver: webhooks.WebhookReceiver | None = None,
    limiter: TokenBucketLimiter | None = None,
) -> FastAPI:
    """The API over `services`; the heartbeat writer starts and stops with the app.

    `receiver` starts workflow runs from webhooks (default: the workflow engine);
    `sink` and `limiter` may be given by tests and benchmarks.
    """
    fleet = services.settings.fleet
    sink = sink or HeartbeatSink(services.store, retention_days=fleet.heartbeat_retention_days)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sink.start()
        # Everything built so far (FastAPI, pydantic, SQLAlchemy) lives as long as the
        # process: freezing it keeps full collections from rescanning it, which otherwise
        # pauses every request for 100-200 ms every few seconds under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            sink.close()  # writes every heartbeat still queued

    app = FastAPI(
        title="Beacon machine API",
        version="1",
        summary="Device enrolment and heartbeats, automation with API keys, workflow webhooks.",
        docs_url="/v1/docs",
        redoc_url=None,
        openapi_url="/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.ctx = ApiContext(
        services=services,
        hasher=TokenHasher.for_store(services.store),
        limiter=limiter or TokenBucketLimiter(fleet.rate_per_second, fleet.rate_burst),
        failures=TokenBucketLimiter(FAILED_AUTH_PER_SECOND, FAILED_AUTH_BURST),
        sink=sink,
        receiver=receiver,
    )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*_validation_message(exc))

    @app.exception_handler(BeaconError)
    async def beacon_error(request: Request, exc: BeaconError) -> JSONResponse:
        status = next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), 400)
        return _error(status, str(exc))

    @app.get("/v1/health", tags=["service"])
    async def health() -> dict[str, str]:
        """Liveness of the API itself (no authentication)."""
        return {"status": "ok"}

    app.include_router(devices.router)
    app.include_router(models_routes.router)
    app.include_router(automation.router)
    app.include_router(webhooks.router)
    if fleet.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(fleet.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Beacon-Timestamp",
                "X-Beacon-Signature",
            ],
            max_age=600,
        )
    app.add_middleware(BodyLimitMiddleware, limit=fleet.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    return app

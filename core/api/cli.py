"""`python -m core api [--host H] [--port P] [--workers N]`: serve the machine API (uvicorn)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any

import uvicorn

from core.services import Services

UVICORN_OPTIONS: dict[str, Any] = {
    "access_log": False,  # our access log leaves out query strings and credentials
    "proxy_headers": False,  # rate limits key on the socket peer, which a header cannot fake
    "log_level": "info",
    "timeout_graceful_shutdown": 10,
}


def app_from_environment():
    """The app over this process's settings (each uvicorn worker process builds its own)."""
    from core.api.app import create_app
    from core.services import open_services

    logging.getLogger("core").setLevel(logging.INFO)
    return create_app(open_services())


def serve(services: Services, host: str, port: int, workers: int = 1) -> None:
    """Run the API until interrupted; heartbeats are group-committed in each worker."""
    if workers > 1:  # worker processes import the app themselves
        uvicorn.run(
            "core.api.cli:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **UVICORN_OPTIONS,
        )
        return
    from core.api.app import create_app

    logging.getLogger("core").setLevel(logging.INFO)
    uvicorn.run(create_app(services), host=host, port=port, **UVICORN_OPTIONS)


def cmd_api(args: argparse.Namespace, services: Services) -> None:
    fleet = services.settings.fleet
    serve(services, args.host or fleet.api_host, args.port or fleet.api_port, args.workers)


def register(add_command: Callable[..., Any]) -> None:
    """Add the `api` command."""
    parser = add_command("api", "serve the machine API (devices, automation, webhooks)", cmd_api)
    parser.add_argument("--host", help="address to listen on (default: BEACON_API_HOST)")
    parser.add_argument("--port", type=int, help="port (default: BEACON_API_PORT)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1); rate limits then apply per worker",
    )

"""The edge agent's HTTP: calls to Beacon's API, artifact downloads, the /infer server.

Standard library only, like the agent itself (core.fleet.agent).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("beacon.agent")
MAX_BODY = 1024 * 1024


class AgentError(Exception):
    """The API or a download failed; the agent retries on its next cycle."""


class Api:
    """The machine API as the agent uses it (urllib; bounded timeouts)."""

    def __init__(self, base: str, credential: str | None = None, timeout: float = 10.0) -> None:
        self.base, self.credential, self.timeout = base.rstrip("/"), credential, timeout

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        """One request; AgentError on anything but a 2xx JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        if self.credential:
            request.add_header("Authorization", f"Bearer {self.credential}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise AgentError(f"{method} {path}: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AgentError(f"{method} {path}: {exc}") from None


def download(url: str, sha256: str, target: Path, timeout: float = 60.0) -> None:
    """Fetch `url` to `target` only if its sha256 matches (written to a temporary name first)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer, partial.open("wb") as out:  # noqa: S310
            while chunk := answer.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise AgentError(f"download failed: {exc}") from None
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise AgentError(f"sha256 mismatch: got {digest.hexdigest()[:12]}…, want {sha256[:12]}…")
    partial.replace(target)


class _Server(ThreadingHTTPServer):
    """The /infer server: one thread per connection; clients hanging up are not errors."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Stop listening and cut keep-alive connections too (a stopped device is gone)."""
        super().server_close()
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a keep-alive client closed its connection
        log.exception("request from %s failed", client_address)


def serve_http(
    listen: tuple[str, int],
    infer: Callable[[dict], tuple[int, dict]],
    health: Callable[[], dict],
) -> ThreadingHTTPServer:
    """Serve POST /infer and GET /health on `listen` in a background thread."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:
            return  # requests are counted, not logged one by one

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path != "/health":
                return self._send(404, {"error": "not found"})
            return self._send(200, health())

        def do_POST(self) -> None:
            if self.path != "/infer":
                return self._send(404, {"error": "not found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "too large"})
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._send(400, {"error": "the body is not valid JSON"})
            if not isinstance(body, dict):
                return self._send(400, {"error": "send a JSON object"})
            return self._send(*infer(body))

    server = _Server(listen, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server

"""A real S3-compatible server on loopback (moto in server mode) for the fleet tests.

The `s3_server` fixture (tests/conftest.py) starts one per test module; tests reset it
through moto's own API instead of starting another.
"""

from __future__ import annotations

import boto3
from moto.server import ThreadedMotoServer


class LoopbackS3(ThreadedMotoServer):
    """moto's server that also closes its socket on stop (so clients get refused at once)."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)

    def stop(self) -> None:
        server = self._server
        super().stop()
        if server is not None:
            server.server_close()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def admin_client(url: str, key: str = "admin", secret: str = "admin"):  # noqa: S107
    """A boto3 client of the loopback server (any keys pass while authentication is off)."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )

"""Shared fixtures: a fresh BEACON_HOME per test, services over it, and file factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.auth import users
from core.auth.roles import Role, User
from core.config import load_settings
from core.services import Services, open_services
from tests.loopback_s3 import LoopbackS3

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
# Read at import: the autouse `beacon_home` fixture removes every BEACON_* variable.
PG_SERVER_URL = os.environ.get("BEACON_TEST_DATABASE_URL", "").strip()
PG_MISSING = "PostgreSQL not available: set BEACON_TEST_DATABASE_URL (make test starts one)"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test (or a skip)."""
    if not PG_SERVER_URL:
        pytest.skip(PG_MISSING)
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"beacon_test_{uuid.uuid4().hex[:16]}"
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(autouse=True)
def beacon_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state folder and default settings."""
    home = tmp_path / "home"
    for name in list(os.environ):
        if name.startswith("BEACON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BEACON_HOME", str(home))
    monkeypatch.setenv("BEACON_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    return home


@pytest.fixture
def services(beacon_home: Path) -> Services:
    return open_services(load_settings())


@pytest.fixture
def make_user(services: Services) -> Callable[..., User]:
    """Create an account with a role (the first one becomes the admin)."""

    def make(role: Role = Role.ANALYST, email: str | None = None) -> User:
        email = email or f"{role.label}-{os.urandom(3).hex()}@example.com"
        if users.needs_first_admin(services.store):
            admin = users.create_first_admin(services.store, "root@example.com", PASSWORD)
            if role == Role.ADMIN and email == "root@example.com":
                return admin
        user, _ = users.create_user(services.store, User.system(), email, role, password=PASSWORD)
        return user

    return make


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes | str], Path]:
    """Write bytes or UTF-8 text to a file in the test's folder."""

    def write(name: str, content: bytes | str) -> Path:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture(scope="module")
def s3_server() -> Iterator[LoopbackS3]:
    """A real S3-compatible server on loopback, one per test module."""
    server = LoopbackS3()
    server.start()
    yield server
    server.stop()

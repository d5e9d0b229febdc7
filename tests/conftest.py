"""Shared fixtures: a fresh BEACON_HOME per test, services over it, and file factories."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from core.auth import users
from core.auth.roles import Role, User
from core.config import load_settings
from core.services import Services, open_services

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


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

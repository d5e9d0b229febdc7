"""Beacon's settings: one typed object, each setting with a default and help text.

Values come from environment variables (``BEACON_*``) and, for the app, from
``.streamlit/secrets.toml`` under ``[beacon]`` (lower-case keys without the prefix).
Environment variables win. Settings are read once, at the composition root
(``app.py``, the CLI, the worker), and passed down.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import UserInputError


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable value: its environment name, default and meaning."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("BEACON_HOME", ".beacon", "Folder for Beacon's state: store, datasets, artifacts."),
    Setting(
        "BEACON_DATABASE_URL",
        "",
        "SQLAlchemy URL of the app-state store; empty means SQLite at BEACON_HOME/beacon.db. "
        "Example: postgresql+psycopg://user:pass@host/beacon",
    ),
    Setting(
        "BEACON_AUTH_MODE", "local", "Sign-in mode: 'local' (accounts in the store) or 'oidc'."
    ),
    Setting("BEACON_UPLOAD_LIMIT_MB", "1024", "Largest file, in MB, that ingest accepts."),
    Setting(
        "BEACON_IMPORT_DIR",
        "",
        "Server-side folder analysts may ingest files from; empty disables server-side import.",
    ),
    Setting("BEACON_LOCKOUT_ATTEMPTS", "5", "Failed sign-ins before an account is locked."),
    Setting("BEACON_LOCKOUT_MINUTES", "15", "How long a locked account stays locked."),
    Setting("BEACON_DUCKDB_MEMORY_LIMIT", "2GB", "Memory limit of each DuckDB connection."),
    Setting("BEACON_DUCKDB_THREADS", "2", "Threads of each DuckDB connection."),
    Setting("BEACON_EXPORT_ROW_CAP", "1000000", "Most rows a dataset export holds."),
    Setting(
        "BEACON_OIDC_DEFAULT_ROLE",
        "none",
        "Role for OIDC users no mapping matches: viewer, analyst, admin or none (refused).",
    ),
    Setting(
        "BEACON_OIDC_PROVIDER",
        "",
        "Name of the [auth.NAME] provider in secrets.toml; empty uses the [auth] table itself.",
    ),
    Setting(
        "BEACON_SECRETS_FILE",
        ".streamlit/secrets.toml",
        "TOML file with secrets and the [beacon] / [beacon.oidc] tables.",
    ),
)

ROLE_NAMES = ("viewer", "analyst", "admin")


@dataclass(frozen=True, slots=True)
class OidcRoleMapping:
    """How OIDC claims become Beacon roles; the highest matching role wins."""

    email_roles: Mapping[str, str] = field(default_factory=dict)
    domain_roles: Mapping[str, str] = field(default_factory=dict)
    group_roles: Mapping[str, str] = field(default_factory=dict)
    groups_claim: str = "groups"
    default_role: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Beacon reads from its environment, typed."""

    home: Path
    database_url: str
    auth_mode: str
    upload_limit_bytes: int
    import_dir: Path | None
    lockout_attempts: int
    lockout_minutes: int
    duckdb_memory_limit: str
    duckdb_threads: int
    export_row_cap: int
    oidc: OidcRoleMapping
    oidc_provider: str | None = None

    @property
    def datasets_dir(self) -> Path:
        """Where dataset versions live."""
        return self.home / "datasets"


def _int(values: Mapping[str, str], name: str) -> int:
    raw = values[name]
    try:
        value = int(raw)
    except ValueError:
        raise UserInputError(f"{name} must be a whole number, got {raw!r}.") from None
    if value <= 0:
        raise UserInputError(f"{name} must be positive, got {value}.")
    return value


def _role_table(table: Any, where: str) -> dict[str, str]:
    table = dict(table or {})
    for key, role in table.items():
        if role not in ROLE_NAMES:
            raise UserInputError(f"{where}.{key} must be one of {', '.join(ROLE_NAMES)}.")
    return {str(k).lower(): v for k, v in table.items()}


def _oidc_mapping(secrets: Mapping[str, Any], default: str) -> OidcRoleMapping:
    oidc = dict(secrets.get("beacon", {}).get("oidc", {}))
    if default not in (*ROLE_NAMES, "none"):
        raise UserInputError("BEACON_OIDC_DEFAULT_ROLE must be viewer, analyst, admin or none.")
    return OidcRoleMapping(
        email_roles=_role_table(oidc.get("email_roles"), "beacon.oidc.email_roles"),
        domain_roles=_role_table(oidc.get("domain_roles"), "beacon.oidc.domain_roles"),
        group_roles=_role_table(oidc.get("group_roles"), "beacon.oidc.group_roles"),
        groups_claim=str(oidc.get("groups_claim", "groups")),
        default_role=None if default == "none" else default,
    )


def read_secrets(path: Path) -> dict[str, Any]:
    """Parse a secrets TOML file; a missing file means no secrets."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path} is not valid TOML: {exc}") from exc


def load_settings(
    env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> Settings:
    """Build Settings from environment variables, then secrets, then defaults."""
    env = os.environ if env is None else env
    values = {s.name: s.default for s in SETTINGS}
    if secrets is None:
        secrets = read_secrets(Path(env.get("BEACON_SECRETS_FILE", values["BEACON_SECRETS_FILE"])))
    for key, value in dict(secrets.get("beacon", {})).items():
        name = f"BEACON_{key.upper()}"
        if name in values and not isinstance(value, dict):
            values[name] = str(value)
    oidc_default = dict(secrets.get("beacon", {}).get("oidc", {})).get("default_role")
    if oidc_default is not None:
        values["BEACON_OIDC_DEFAULT_ROLE"] = str(oidc_default)
    values.update({k: v for k, v in env.items() if k in values})

    home = Path(values["BEACON_HOME"]).expanduser().resolve()
    auth_mode = values["BEACON_AUTH_MODE"].strip().lower()
    if auth_mode not in ("local", "oidc"):
        raise UserInputError("BEACON_AUTH_MODE must be 'local' or 'oidc'.")
    database_url = values["BEACON_DATABASE_URL"].strip() or f"sqlite:///{home / 'beacon.db'}"
    import_dir = values["BEACON_IMPORT_DIR"].strip()
    return Settings(
        home=home,
        database_url=database_url,
        auth_mode=auth_mode,
        upload_limit_bytes=_int(values, "BEACON_UPLOAD_LIMIT_MB") * 1024 * 1024,
        import_dir=Path(import_dir).expanduser().resolve() if import_dir else None,
        lockout_attempts=_int(values, "BEACON_LOCKOUT_ATTEMPTS"),
        lockout_minutes=_int(values, "BEACON_LOCKOUT_MINUTES"),
        duckdb_memory_limit=values["BEACON_DUCKDB_MEMORY_LIMIT"],
        duckdb_threads=_int(values, "BEACON_DUCKDB_THREADS"),
        export_row_cap=_int(values, "BEACON_EXPORT_ROW_CAP"),
        oidc=_oidc_mapping(secrets, values["BEACON_OIDC_DEFAULT_ROLE"].strip().lower()),
        oidc_provider=values["BEACON_OIDC_PROVIDER"].strip() or None,
    )

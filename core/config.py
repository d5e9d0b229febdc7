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
        "BEACON_LLM_PROVIDER",
        "auto",
        "Default copy provider: 'template' (offline), 'openai' (any OpenAI-compatible server) "
        "or 'auto' (openai when BEACON_LLM_MODEL is set, else template). Admins can override "
        "it on the Copy studio page.",
    ),
    Setting(
        "BEACON_LLM_MODEL",
        "",
        "Model of the openai provider, e.g. gpt-4o-mini, or llama3.1 on Ollama; empty means "
        "no model, so copy comes from templates.",
    ),
    Setting(
        "BEACON_LLM_BASE_URL",
        "",
        "Base URL of an OpenAI-compatible server (e.g. http://localhost:11434/v1 for Ollama); "
        "empty uses OPENAI_BASE_URL, else OpenAI's API.",
    ),
    Setting(
        "BEACON_LLM_API_KEY",
        "",
        "API key of the model server; empty uses OPENAI_API_KEY (local servers need none). "
        "Set it in secrets.toml or the environment: it is held in memory only, never stored "
        "or logged.",
    ),
    Setting(
        "BEACON_LLM_TIMEOUT_SECONDS",
        "30",
        "Seconds to wait for the model server to answer, and between streamed tokens.",
    ),
    Setting(
        "BEACON_LLM_MAX_RETRIES",
        "2",
        "Retries after a rate limit (honouring Retry-After), a timeout or a server error; "
        "0 = none.",
    ),
    Setting("BEACON_LLM_MAX_TOKENS", "800", "Most tokens one generated copy variant may use."),
    Setting(
        "BEACON_LLM_PRICES",
        "",
        "Prices for cost estimates, USD per million input/output tokens per model, "
        "comma-separated: gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10.00. Empty: cost not estimated.",
    ),
    Setting(
        "BEACON_SECRET_KEY",
        "",
        "Fernet key that encrypts credentials Beacon stores (cloud keys, warehouse passwords); "
        "several keys separated by commas rotate (the first encrypts, all decrypt). Generate "
        "one with: python -m core fleet secret-key. Empty: entering credentials is refused.",
    ),
    Setting("BEACON_API_HOST", "127.0.0.1", "Address the machine API listens on."),
    Setting("BEACON_API_PORT", "8502", "Port of the machine API (`python -m core api`)."),
    Setting(
        "BEACON_API_CORS_ORIGINS",
        "",
        "Browser origins allowed to call the machine API, comma-separated; empty allows none.",
    ),
    Setting(
        "BEACON_API_RATE_PER_SECOND",
        "5",
        "Requests per second each device or API key may make on average (token bucket).",
    ),
    Setting("BEACON_API_RATE_BURST", "20", "Requests a credential may make in one burst."),
    Setting("BEACON_API_MAX_BODY_KB", "64", "Largest request body, in KB, the machine API reads."),
    Setting(
        "BEACON_HEARTBEAT_SECONDS",
        "30",
        "Seconds between device heartbeats; a device is stale after 3 missed, offline after 20.",
    ),
    Setting("BEACON_HEARTBEAT_RETENTION_DAYS", "30", "Days of device heartbeat history to keep."),
    Setting(
        "BEACON_CLOUD_TIMEOUT_SECONDS",
        "10",
        "Seconds to wait for cloud storage to connect or answer, per attempt.",
    ),
    Setting(
        "BEACON_CLOUD_RETRIES",
        "3",
        "Attempts per cloud storage call, with exponential backoff for retryable errors.",
    ),
    Setting(
        "BEACON_WORKER_SLOTS",
        "2",
        "Workflow steps one worker runs at once, each in a child process.",
    ),
    Setting(
        "BEACON_WORKER_POLL_SECONDS",
        "1",
        "Seconds an idle workflow worker waits before it looks again for due schedules and steps.",
    ),
    Setting(
        "BEACON_WORKFLOW_MAX_RUNS",
        "20",
        "Workflow runs in progress at once across all workers; further runs wait in the queue.",
    ),
    Setting(
        "BEACON_WORKFLOW_STEP_TIMEOUT",
        "3600",
        "Seconds a workflow step may run before its process is stopped (a step's timeout wins).",
    ),
    Setting(
        "BEACON_WORKFLOW_LEASE_SECONDS",
        "30",
        "Seconds a worker's claim on a running step lasts without a heartbeat; after that the "
        "step counts as interrupted and is retried by its policy.",
    ),
    Setting(
        "BEACON_WORKFLOW_MISFIRE_GRACE_SECONDS",
        "60",
        "How late a scheduled run may start and still count as on time; later ones follow the "
        "workflow's missed-run policy.",
    ),
    Setting(
        "BEACON_WORKFLOW_OUTPUT_LIMIT_KB",
        "256",
        "Largest stored output of one workflow step, in KB; larger outputs are trimmed and "
        "marked truncated.",
    ),
    Setting(
        "BEACON_WORKFLOW_TEMPLATE_MAX_CHARS",
        "100000",
        "Longest text one workflow template may render.",
    ),
    Setting(
        "BEACON_WORKFLOW_TEMPLATE_SECONDS",
        "2",
        "Longest time one workflow template may take to render.",
    ),
    Setting(
        "BEACON_WORKFLOW_HTTP_ALLOWED_HOSTS",
        "",
        "Hosts that workflow HTTP requests and webhook notifications may call, comma-separated "
        "('*.example.com' also matches subdomains, 'host:port' pins a port); empty allows none.",
    ),
    Setting("BEACON_SMTP_HOST", "", "SMTP server for workflow emails; empty turns email off."),
    Setting("BEACON_SMTP_PORT", "587", "Port of the SMTP server."),
    Setting(
        "BEACON_SMTP_SECURITY",
        "starttls",
        "How to secure SMTP: 'starttls', 'ssl' (implicit TLS) or 'none' (only for a local relay).",
    ),
    Setting("BEACON_SMTP_USER", "", "SMTP user name; empty sends without logging in."),
    Setting("BEACON_SMTP_PASSWORD", "", "SMTP password (secrets.toml or the environment)."),
    Setting("BEACON_SMTP_FROM", "beacon@localhost", "Sender address of workflow emails."),
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


class Secret:
    """A credential held in memory only: its repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one call that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """The copy studio's model server: provider default, model, endpoint, key and limits."""

    provider: str = "auto"
    model: str = ""
    base_url: str | None = None
    api_key: Secret | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 2
    max_tokens: int = 800
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FleetSettings:
    """Cloud targets, devices and the machine API: addresses, limits and intervals."""

    api_host: str = "127.0.0.1"
    api_port: int = 8502
    cors_origins: tuple[str, ...] = ()
    rate_per_second: float = 5.0
    rate_burst: int = 20
    max_body_bytes: int = 64 * 1024
    heartbeat_seconds: int = 30
    heartbeat_retention_days: int = 30
    cloud_timeout_seconds: float = 10.0
    cloud_attempts: int = 3


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """The workflow engine and worker: limits, timings, HTTP allow-list and SMTP."""

    worker_slots: int = 2
    poll_seconds: float = 1.0
    max_runs: int = 20
    step_timeout_seconds: int = 3600
    lease_seconds: int = 30
    misfire_grace_seconds: int = 60
    output_limit_bytes: int = 256 * 1024
    template_max_chars: int = 100_000
    template_seconds: float = 2.0
    http_allowed_hosts: tuple[str, ...] = ()
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: Secret | None = None
    smtp_from: str = "beacon@localhost"


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
    llm: LlmSettings = field(default_factory=LlmSettings)
    secret_key: Secret | None = None
    fleet: FleetSettings = field(default_factory=FleetSettings)
    workflows: WorkflowSettings = field(default_factory=WorkflowSettings)

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


def _prices(raw: str) -> dict[str, tuple[float, float]]:
    prices: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        model, _, pair = part.rpartition("=")
        cost_in, _, cost_out = pair.partition("/")
        try:
            values = (float(cost_in), float(cost_out))
        except ValueError:
            values = (-1.0, -1.0)
        if not model.strip() or min(values) < 0:
            raise UserInputError(
                f"BEACON_LLM_PRICES takes model=input/output USD per million tokens, got {part!r}."
            )
        prices[model.strip()] = values
    return prices


def _llm_settings(values: Mapping[str, str], env: Mapping[str, str]) -> LlmSettings:
    try:
        timeout = float(values["BEACON_LLM_TIMEOUT_SECONDS"])
        retries = int(values["BEACON_LLM_MAX_RETRIES"])
    except ValueError:
        raise UserInputError(
            "BEACON_LLM_TIMEOUT_SECONDS must be a number and BEACON_LLM_MAX_RETRIES a whole number."
        ) from None
    if not 0 < timeout <= 3600 or not 0 <= retries <= 10:
        raise UserInputError(
            "BEACON_LLM_TIMEOUT_SECONDS must be in (0, 3600] and BEACON_LLM_MAX_RETRIES in 0-10."
        )
    # Beacon's own names win; the OpenAI SDK's variables are honoured otherwise.
    key = values["BEACON_LLM_API_KEY"].strip() or env.get("OPENAI_API_KEY", "").strip()
    base_url = values["BEACON_LLM_BASE_URL"].strip() or env.get("OPENAI_BASE_URL", "").strip()
    return LlmSettings(
        provider=values["BEACON_LLM_PROVIDER"].strip().lower() or "auto",
        model=values["BEACON_LLM_MODEL"].strip(),
        base_url=base_url or None,
        api_key=Secret(key) if key else None,
        timeout_seconds=timeout,
        max_retries=retries,
        max_tokens=_int(values, "BEACON_LLM_MAX_TOKENS"),
        prices=_prices(values["BEACON_LLM_PRICES"]),
    )


def _fleet_settings(values: Mapping[str, str]) -> FleetSettings:
    origins = tuple(o.strip() for o in values["BEACON_API_CORS_ORIGINS"].split(",") if o.strip())
    try:
        rate = float(values["BEACON_API_RATE_PER_SECOND"])
        timeout = float(values["BEACON_CLOUD_TIMEOUT_SECONDS"])
    except ValueError:
        raise UserInputError(
            "BEACON_API_RATE_PER_SECOND and BEACON_CLOUD_TIMEOUT_SECONDS must be numbers."
        ) from None
    if rate <= 0 or not 0 < timeout <= 600:
        raise UserInputError(
            "BEACON_API_RATE_PER_SECOND must be positive and BEACON_CLOUD_TIMEOUT_SECONDS "
            "in (0, 600]."
        )
    port = _int(values, "BEACON_API_PORT")
    if port > 65535:
        raise UserInputError(f"BEACON_API_PORT must be a port number (1-65535), got {port}.")
    return FleetSettings(
        api_host=values["BEACON_API_HOST"].strip() or "127.0.0.1",
        api_port=port,
        cors_origins=origins,
        rate_per_second=rate,
        rate_burst=_int(values, "BEACON_API_RATE_BURST"),
        max_body_bytes=_int(values, "BEACON_API_MAX_BODY_KB") * 1024,
        heartbeat_seconds=_int(values, "BEACON_HEARTBEAT_SECONDS"),
        heartbeat_retention_days=_int(values, "BEACON_HEARTBEAT_RETENTION_DAYS"),
        cloud_timeout_seconds=timeout,
        cloud_attempts=_int(values, "BEACON_CLOUD_RETRIES"),
    )


def _workflow_settings(values: Mapping[str, str]) -> WorkflowSettings:
    try:
        poll = float(values["BEACON_WORKER_POLL_SECONDS"])
        render_seconds = float(values["BEACON_WORKFLOW_TEMPLATE_SECONDS"])
    except ValueError:
        raise UserInputError(
            "BEACON_WORKER_POLL_SECONDS and BEACON_WORKFLOW_TEMPLATE_SECONDS must be numbers."
        ) from None
    if not 0 < poll <= 60 or not 0 < render_seconds <= 60:
        raise UserInputError(
            "BEACON_WORKER_POLL_SECONDS and BEACON_WORKFLOW_TEMPLATE_SECONDS must be in (0, 60]."
        )
    security = values["BEACON_SMTP_SECURITY"].strip().lower()
    if security not in ("starttls", "ssl", "none"):
        raise UserInputError("BEACON_SMTP_SECURITY must be 'starttls', 'ssl' or 'none'.")
    hosts = values["BEACON_WORKFLOW_HTTP_ALLOWED_HOSTS"].split(",")
    password = values["BEACON_SMTP_PASSWORD"]
    return WorkflowSettings(
        worker_slots=_int(values, "BEACON_WORKER_SLOTS"),
        poll_seconds=poll,
        max_runs=_int(values, "BEACON_WORKFLOW_MAX_RUNS"),
        step_timeout_seconds=_int(values, "BEACON_WORKFLOW_STEP_TIMEOUT"),
        lease_seconds=_int(values, "BEACON_WORKFLOW_LEASE_SECONDS"),
        misfire_grace_seconds=_int(values, "BEACON_WORKFLOW_MISFIRE_GRACE_SECONDS"),
        output_limit_bytes=_int(values, "BEACON_WORKFLOW_OUTPUT_LIMIT_KB") * 1024,
        template_max_chars=_int(values, "BEACON_WORKFLOW_TEMPLATE_MAX_CHARS"),
        template_seconds=render_seconds,
        http_allowed_hosts=tuple(h.strip().lower() for h in hosts if h.strip()),
        smtp_host=values["BEACON_SMTP_HOST"].strip(),
        smtp_port=_int(values, "BEACON_SMTP_PORT"),
        smtp_security=security,
        smtp_user=values["BEACON_SMTP_USER"].strip(),
        smtp_password=Secret(password) if password else None,
        smtp_from=values["BEACON_SMTP_FROM"].strip() or "beacon@localhost",
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
        llm=_llm_settings(values, env),
        secret_key=Secret(key) if (key := values["BEACON_SECRET_KEY"].strip()) else None,
        fleet=_fleet_settings(values),
        workflows=_workflow_settings(values),
    )

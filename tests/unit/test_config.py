"""Settings: defaults, environment, the secrets file, validation, and their documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import SETTINGS, OidcRoleMapping, load_settings, read_secrets
from core.errors import UserInputError
from tests.conftest import ROOT

MB = 1024 * 1024


def write_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """Write a secrets file and point BEACON_SECRETS_FILE at it."""
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("BEACON_SECRETS_FILE", str(path))
    return path


def test_defaults(beacon_home):
    settings = load_settings()
    assert settings.home == beacon_home.resolve()
    assert settings.database_url == f"sqlite:///{beacon_home.resolve() / 'beacon.db'}"
    assert settings.datasets_dir == beacon_home.resolve() / "datasets"
    assert settings.auth_mode == "local"
    assert settings.upload_limit_bytes == 1024 * MB
    assert settings.import_dir is None
    assert (settings.lockout_attempts, settings.lockout_minutes) == (5, 15)
    assert (settings.duckdb_memory_limit, settings.duckdb_threads) == ("2GB", 2)
    assert settings.export_row_cap == 1_000_000
    assert settings.oidc == OidcRoleMapping()
    assert settings.oidc.default_role is None
    assert settings.oidc.groups_claim == "groups"


def test_without_any_environment_home_is_dot_beacon_under_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={}, secrets={})
    assert settings.home == tmp_path.resolve() / ".beacon"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / '.beacon' / 'beacon.db'}"


def test_environment_overrides_every_default(tmp_path, monkeypatch):
    values = {
        "BEACON_HOME": str(tmp_path / "elsewhere"),
        "BEACON_DATABASE_URL": " postgresql+psycopg://u:p@db/beacon ",
        "BEACON_AUTH_MODE": " OIDC ",
        "BEACON_UPLOAD_LIMIT_MB": "5",
        "BEACON_IMPORT_DIR": str(tmp_path / "imports"),
        "BEACON_LOCKOUT_ATTEMPTS": "3",
        "BEACON_LOCKOUT_MINUTES": "60",
        "BEACON_DUCKDB_MEMORY_LIMIT": "512MB",
        "BEACON_DUCKDB_THREADS": "8",
        "BEACON_EXPORT_ROW_CAP": "500",
        "BEACON_OIDC_DEFAULT_ROLE": "Analyst",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.home == (tmp_path / "elsewhere").resolve()
    assert settings.database_url == "postgresql+psycopg://u:p@db/beacon"
    assert settings.auth_mode == "oidc"
    assert settings.upload_limit_bytes == 5 * MB
    assert settings.import_dir == (tmp_path / "imports").resolve()
    assert (settings.lockout_attempts, settings.lockout_minutes) == (3, 60)
    assert (settings.duckdb_memory_limit, settings.duckdb_threads) == ("512MB", 8)
    assert settings.export_row_cap == 500
    assert settings.oidc.default_role == "analyst"


def test_unknown_environment_variables_are_ignored():
    settings = load_settings(env={"BEACON_UNKNOWN": "x", "HOME": "/nowhere"}, secrets={})
    assert settings.auth_mode == "local"


def test_secrets_beacon_table(tmp_path, monkeypatch):
    write_secrets(
        tmp_path,
        monkeypatch,
        """
        [beacon]
        upload_limit_mb = 5
        auth_mode = "oidc"
        lockout_attempts = 4
        duckdb_memory_limit = "1GB"
        not_a_setting = "ignored"

        [beacon.oidc]
        groups_claim = "roles"
        default_role = "viewer"
        email_roles = { "Boss@Corp.com" = "admin" }
        domain_roles = { "corp.com" = "analyst" }
        group_roles = { "Beacon-Admins" = "admin" }

        [other]
        upload_limit_mb = 1
        """,
    )
    settings = load_settings()
    assert settings.upload_limit_bytes == 5 * MB
    assert settings.auth_mode == "oidc"
    assert settings.lockout_attempts == 4
    assert settings.lockout_minutes == 15  # not in the file: the default
    assert settings.duckdb_memory_limit == "1GB"
    assert settings.oidc == OidcRoleMapping(
        email_roles={"boss@corp.com": "admin"},
        domain_roles={"corp.com": "analyst"},
        group_roles={"beacon-admins": "admin"},
        groups_claim="roles",
        default_role="viewer",
    )


def test_environment_beats_secrets(tmp_path, monkeypatch):
    write_secrets(
        tmp_path,
        monkeypatch,
        '[beacon]\nupload_limit_mb = 5\nauth_mode = "oidc"\noidc_default_role = "viewer"\n',
    )
    monkeypatch.setenv("BEACON_UPLOAD_LIMIT_MB", "7")
    monkeypatch.setenv("BEACON_AUTH_MODE", "local")
    monkeypatch.setenv("BEACON_OIDC_DEFAULT_ROLE", "admin")
    settings = load_settings()
    assert settings.upload_limit_bytes == 7 * MB
    assert settings.auth_mode == "local"
    assert settings.oidc.default_role == "admin"


def test_environment_beats_the_secrets_oidc_default_role(tmp_path, monkeypatch):
    write_secrets(tmp_path, monkeypatch, '[beacon.oidc]\ndefault_role = "admin"\n')
    monkeypatch.setenv("BEACON_OIDC_DEFAULT_ROLE", "none")
    assert load_settings().oidc.default_role is None


def test_explicit_env_and_secrets_arguments_do_not_read_the_process():
    secrets = {"beacon": {"lockout_minutes": 30}}
    settings = load_settings(env={"BEACON_LOCKOUT_ATTEMPTS": "9"}, secrets=secrets)
    assert (settings.lockout_attempts, settings.lockout_minutes) == (9, 30)


WHOLE = "must be a whole number, got"
ROLE_NAMES = "must be one of viewer, analyst, admin."
DEFAULT_ROLE = "BEACON_OIDC_DEFAULT_ROLE must be viewer, analyst, admin or none."


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BEACON_UPLOAD_LIMIT_MB": "ten"}, f"BEACON_UPLOAD_LIMIT_MB {WHOLE} 'ten'."),
        ({"BEACON_UPLOAD_LIMIT_MB": "1.5"}, f"BEACON_UPLOAD_LIMIT_MB {WHOLE} '1.5'."),
        ({"BEACON_UPLOAD_LIMIT_MB": "0"}, "BEACON_UPLOAD_LIMIT_MB must be positive, got 0."),
        ({"BEACON_LOCKOUT_ATTEMPTS": "-3"}, "BEACON_LOCKOUT_ATTEMPTS must be positive, got -3."),
        ({"BEACON_DUCKDB_THREADS": ""}, f"BEACON_DUCKDB_THREADS {WHOLE} ''."),
        ({"BEACON_AUTH_MODE": "ldap"}, "BEACON_AUTH_MODE must be 'local' or 'oidc'."),
        ({"BEACON_OIDC_DEFAULT_ROLE": "owner"}, DEFAULT_ROLE),
    ],
)
def test_bad_environment_values_are_refused_with_a_helpful_message(env, message):
    with pytest.raises(UserInputError) as refused:
        load_settings(env=env, secrets={})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("oidc", "message"),
    [
        ({"group_roles": {"staff": "superuser"}}, f"beacon.oidc.group_roles.staff {ROLE_NAMES}"),
        ({"email_roles": {"a@b.com": "root"}}, f"beacon.oidc.email_roles.a@b.com {ROLE_NAMES}"),
        ({"domain_roles": {"corp.com": "none"}}, f"beacon.oidc.domain_roles.corp.com {ROLE_NAMES}"),
        ({"default_role": "owner"}, DEFAULT_ROLE),
    ],
)
def test_bad_oidc_role_mappings_are_refused(oidc, message):
    with pytest.raises(UserInputError) as refused:
        load_settings(env={}, secrets={"beacon": {"oidc": oidc}})
    assert str(refused.value) == message


def test_bad_upload_limit_in_the_secrets_file_is_refused(tmp_path, monkeypatch):
    write_secrets(tmp_path, monkeypatch, '[beacon]\nupload_limit_mb = "lots"\n')
    with pytest.raises(UserInputError, match="BEACON_UPLOAD_LIMIT_MB must be a whole number"):
        load_settings()


def test_invalid_toml_names_the_file(tmp_path, monkeypatch):
    path = write_secrets(tmp_path, monkeypatch, "[beacon\nauth_mode = \n")
    with pytest.raises(UserInputError, match=re.escape(f"{path} is not valid TOML")):
        load_settings()


def test_missing_secrets_file_means_no_secrets(tmp_path):
    assert read_secrets(tmp_path / "absent.toml") == {}
    assert read_secrets(tmp_path) == {}  # a folder is not a secrets file either


def test_every_setting_is_unique_and_loadable_from_its_default():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(name.startswith("BEACON_") for name in names)
    assert all(s.help.strip() for s in SETTINGS)
    load_settings(env={s.name: s.default for s in SETTINGS}, secrets={})


def test_every_setting_is_documented_in_the_readme():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.fail(
            f"{readme} is missing: it must document every setting in core.config.SETTINGS "
            "(a settings table with name, default and meaning)."
        )
    text = readme.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if not re.search(rf"\b{s.name}\b", text)]
    assert not missing, f"README.md does not document: {', '.join(missing)}"

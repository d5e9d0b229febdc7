"""`python -m core fleet ...` and `python -m core api --help`."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from core.cli import main
from core.config import load_settings
from core.fleet import devices
from core.fleet.tokens import TokenHasher
from core.services import open_services


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_devices_add_prints_a_working_token_and_list_is_json(capsys):
    code, out, _ = run(
        capsys,
        "fleet",
        "devices",
        "add",
        "pi-7",
        "--kind",
        "raspberry-pi",
        "--tag",
        "Store-7",
        "--lat",
        "48.1",
        "--lon",
        "11.5",
        "--site",
        "Munich",
    )
    assert code == 0
    token = out.splitlines()[0]
    assert token.startswith("bcn_enrol_") and "not shown again" in out
    svc = open_services(load_settings())
    devices.enrol(svc.store, TokenHasher.for_store(svc.store), token, arch="arm64")
    code, out, _ = run(capsys, "fleet", "devices", "list", "--json")
    (row,) = json.loads(out)
    assert {
        k: row[k] for k in ("name", "kind", "tags", "site", "status", "liveness", "health")
    } == {
        "name": "pi-7",
        "kind": "raspberry-pi",
        "tags": ["store-7"],
        "site": "Munich",
        "status": "active",
        "liveness": "never seen",
        "health": "unknown",
    }
    code, out, _ = run(capsys, "fleet", "devices", "revoke", "pi-7", "--json")
    assert json.loads(out)["status"] == "revoked"


def test_bad_input_is_one_error_line_and_exit_2(capsys):
    code, _, err = run(capsys, "fleet", "devices", "show", "nope")
    assert (code, err) == (2, "error: No device named 'nope'.\n")
    code, _, err = run(
        capsys,
        "fleet",
        "targets",
        "add",
        "lake",
        "--provider",
        "minio",
        "--bucket",
        "data",
        "--endpoint",
        "http://127.0.0.1:9000",
        "--access-key-id",
        "AK",
    )
    assert code == 2
    assert err.startswith(
        "error: Storing credentials needs an encryption key: set BEACON_SECRET_KEY"
    )


def test_targets_add_and_list_never_print_the_secret(capsys, monkeypatch):
    monkeypatch.setenv("BEACON_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("super-secret-value\n"))
    code, out, _ = run(
        capsys,
        "fleet",
        "targets",
        "add",
        "lake",
        "--provider",
        "minio",
        "--bucket",
        "data",
        "--endpoint",
        "http://127.0.0.1:9000",
        "--access-key-id",
        "AKIAEXAMPLE1234",
        "--secret-access-key-stdin",
        "--json",
    )
    assert code == 0 and json.loads(out)["credentials"] == "keys"
    code, out, _ = run(capsys, "fleet", "targets", "list", "--json")
    assert json.loads(out)[0]["key"] == "••••••••1234"
    assert "super-secret-value" not in out and "AKIAEXAMPLE1234" not in out


def test_secret_key_prints_a_fernet_key(capsys):
    code, out, _ = run(capsys, "fleet", "secret-key")
    assert code == 0
    Fernet(out.strip().encode())  # raises if it is not one


def test_keys_add_prints_the_key_once(capsys):
    _, out, _ = run(capsys, "fleet", "keys", "add", "ci", "--scope", "devices:read", "--json")
    payload = json.loads(out)
    assert payload["api_key"].startswith("bcn_key_") and payload["scopes"] == ["devices:read"]
    _, out, _ = run(capsys, "fleet", "keys", "list", "--json")
    assert payload["api_key"] not in out and json.loads(out)[0]["active"] is True


def test_api_command_is_registered(capsys):
    with pytest.raises(SystemExit) as done:
        main(["api", "--help"])
    assert done.value.code == 0
    assert "--port" in capsys.readouterr().out

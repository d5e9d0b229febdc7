"""Fleet and API settings: defaults, overrides and refusals."""

from __future__ import annotations

import pytest

from core.config import FleetSettings, load_settings
from core.errors import UserInputError


def test_defaults():
    settings = load_settings(env={}, secrets={})
    assert settings.fleet == FleetSettings()
    assert settings.secret_key is None
    assert (settings.fleet.api_host, settings.fleet.api_port) == ("127.0.0.1", 8502)
    assert settings.fleet.max_body_bytes == 64 * 1024


def test_overrides_from_the_environment_and_secrets():
    settings = load_settings(
        env={
            "BEACON_API_CORS_ORIGINS": "https://a.example.com, https://b.example.com",
            "BEACON_API_RATE_PER_SECOND": "2.5",
            "BEACON_HEARTBEAT_SECONDS": "10",
        },
        secrets={"beacon": {"secret_key": "k1", "api_port": 9000, "cloud_retries": 5}},
    )
    assert settings.fleet.cors_origins == ("https://a.example.com", "https://b.example.com")
    assert settings.fleet.rate_per_second == 2.5 and settings.fleet.heartbeat_seconds == 10
    assert settings.fleet.api_port == 9000 and settings.fleet.cloud_attempts == 5
    assert settings.secret_key.reveal() == "k1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BEACON_API_PORT": "70000"}, "BEACON_API_PORT must be a port number"),
        ({"BEACON_API_RATE_PER_SECOND": "fast"}, "must be numbers"),
        ({"BEACON_CLOUD_TIMEOUT_SECONDS": "0"}, "BEACON_CLOUD_TIMEOUT_SECONDS"),
        ({"BEACON_HEARTBEAT_SECONDS": "-1"}, "BEACON_HEARTBEAT_SECONDS must be positive"),
    ],
)
def test_bad_values_are_refused(env, message):
    with pytest.raises(UserInputError, match=message):
        load_settings(env=env, secrets={})

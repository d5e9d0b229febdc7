"""How long and how often Beacon tries an outside service before it gives up.

Retries are the client library's job: botocore's "standard" retry mode retries
throttling, 5xx answers and connection errors with exponential backoff and jitter, up
to `attempts` tries in total. Beacon only sets the bounds and adds the breaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from core.config import FleetSettings


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Timeouts, attempts and breaker limits of calls to one kind of service."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    attempts: int = 3
    breaker_threshold: int = 5
    breaker_reset_seconds: float = 30.0

    @classmethod
    def from_settings(cls, fleet: FleetSettings) -> CallPolicy:
        """The policy of cloud storage calls under BEACON_CLOUD_* settings."""
        return cls(
            connect_timeout=min(5.0, fleet.cloud_timeout_seconds),
            read_timeout=fleet.cloud_timeout_seconds,
            attempts=fleet.cloud_attempts,
        )

    def botocore_config(self, **extra: Any) -> Config:
        """A botocore Config with these timeouts and standard-mode retries."""
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"total_max_attempts": self.attempts, "mode": "standard"},
            **extra,
        )

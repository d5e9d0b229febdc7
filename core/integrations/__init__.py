"""Shared resilience for every call Beacon makes to a service outside itself.

`CallPolicy` bounds each call (connect and read timeouts, attempts with exponential
backoff, handed to the client library's own retry machinery) and `CircuitBreaker`
stops calling a service that keeps failing, so a dead endpoint costs one fast error
instead of a timeout per click. One breaker per named target lives in a
`BreakerRegistry`; pages read its snapshots to show the state.
"""

from core.integrations.breaker import (
    BREAKERS,
    BreakerRegistry,
    BreakerSnapshot,
    CircuitBreaker,
    CircuitOpen,
)
from core.integrations.policy import CallPolicy

__all__ = [
    "BREAKERS",
    "BreakerRegistry",
    "BreakerSnapshot",
    "CallPolicy",
    "CircuitBreaker",
    "CircuitOpen",
]

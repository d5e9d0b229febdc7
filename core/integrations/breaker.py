"""A circuit breaker per outside service, and the registry that holds them.

    closed ──(N outages in a row)──> open ──(cool-down over)──> half-open
       ^                               ^                            │
       └──────(trial call answers)─────┼────────────────────────────┤
                                       └──────(trial call fails)────┘

Only outages count (the service could not be reached, timed out or failed on its
side): an answer such as "access denied" proves the service is up. While open, calls
fail at once with `CircuitOpen`, naming when the next try is allowed; after the
cool-down one trial call goes through and decides. The call that trips the breaker
still raises its own error, so the user learns the real cause first.

The state is per process (the app, the CLI and the API each keep their own); the
breaker is thread-safe because Streamlit runs sessions in threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from core.errors import IntegrationError

T = TypeVar("T")
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpen(IntegrationError):
    """Calls to a service are paused after repeated outages."""


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What a page shows about one breaker."""

    name: str
    state: str
    failures: int
    threshold: int
    last_error: str
    opened_at: datetime | None
    retry_at: datetime | None


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class CircuitBreaker:
    """Counts consecutive outages of one service and pauses calls once there are too many."""

    def __init__(
        self,
        name: str,
        *,
        threshold: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if threshold < 1 or reset_seconds <= 0:
            raise ValueError("threshold must be >= 1 and reset_seconds > 0")
        self.name = name
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at: float | None = None
        self._last_error = ""
        self._trial_running = False

    def configure(self, threshold: int, reset_seconds: float) -> None:
        """Change the limits (a target's policy may change while its breaker lives)."""
        with self._lock:
            self.threshold, self.reset_seconds = threshold, reset_seconds

    @property
    def state(self) -> str:
        """closed, open or half-open (an open breaker whose cool-down is over is half-open)."""
        with self._lock:
            return self._current_state()

    def _current_state(self) -> str:
        if self._state == OPEN and self._clock() >= (self._opened_at or 0) + self.reset_seconds:
            return HALF_OPEN
        return self._state

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go through now (claims the trial slot)."""
        with self._lock:
            state = self._current_state()
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial_running:
                self._state = HALF_OPEN
                self._trial_running = True
                return
            retry_at = _moment((self._opened_at or self._clock()) + self.reset_seconds)
            wait = (
                "a trial call is in progress"
                if state == HALF_OPEN
                else (f"next try after {retry_at:%H:%M:%S} UTC")
            )
            raise CircuitOpen(
                f"{self.name} is paused after {self._failures} failed call(s) in a row "
                f"({self._last_error}); {wait}."
            )

    def record_success(self) -> None:
        """The service answered: close the breaker."""
        with self._lock:
            self._state, self._failures, self._opened_at = CLOSED, 0, None
            self._trial_running = False

    def record_failure(self, error: str) -> None:
        """The service was down: count it, and open once the threshold is reached."""
        with self._lock:
            self._failures += 1
            self._last_error = error[:300]
            if self._state == HALF_OPEN or self._failures >= self.threshold:
                self._state, self._opened_at = OPEN, self._clock()
            self._trial_running = False

    def call(self, func: Callable[[], T], is_outage: Callable[[BaseException], bool]) -> T:
        """Run `func` under the breaker; `is_outage` says which errors mean the service is down."""
        self.before_call()
        try:
            result = func()
        except BaseException as exc:
            if is_outage(exc):
                self.record_failure(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            else:
                self.record_success()
            raise
        self.record_success()
        return result

    def snapshot(self) -> BreakerSnapshot:
        """The breaker's state now."""
        with self._lock:
            state = self._current_state()
            opened = self._opened_at if state != CLOSED else None
            return BreakerSnapshot(
                name=self.name,
                state=state,
                failures=self._failures,
                threshold=self.threshold,
                last_error=self._last_error,
                opened_at=_moment(opened),
                retry_at=_moment(None if opened is None else opened + self.reset_seconds),
            )


class BreakerRegistry:
    """One breaker per service name, created on first use."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str, *, threshold: int = 5, reset_seconds: float = 30.0) -> CircuitBreaker:
        """The breaker of `name`, with these limits."""
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(
                    name, threshold=threshold, reset_seconds=reset_seconds, clock=self._clock
                )
                self._breakers[name] = breaker
            else:
                breaker.configure(threshold, reset_seconds)
            return breaker

    def snapshot(self, name: str) -> BreakerSnapshot:
        """The state of `name`'s breaker; a service never called is closed."""
        with self._lock:
            breaker = self._breakers.get(name)
        if breaker is None:
            return BreakerSnapshot(name, CLOSED, 0, 5, "", None, None)
        return breaker.snapshot()

    def forget(self, name: str) -> None:
        """Drop a breaker (its service was removed or reconfigured)."""
        with self._lock:
            self._breakers.pop(name, None)


# The breakers of this process: every call path (page, CLI, API) shares them.
BREAKERS = BreakerRegistry()

"""The circuit breaker: closed -> open -> half-open -> closed, with a clock we control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.integrations import BreakerRegistry, CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Down(Exception):
    pass


def outage(exc: BaseException) -> bool:
    return isinstance(exc, Down)


def fail(breaker: CircuitBreaker, exc: Exception | None = None) -> None:
    def boom():
        raise exc or Down("connection refused")

    with pytest.raises(type(exc or Down("x"))):
        breaker.call(boom, outage)


def test_opens_after_the_threshold_and_fails_fast():
    clock = Clock()
    breaker = CircuitBreaker("storage", threshold=3, reset_seconds=30, clock=clock)
    for expected in (1, 2):
        fail(breaker)
        assert (breaker.state, breaker.snapshot().failures) == ("closed", expected)
    fail(breaker)  # the third raises its own error, then the breaker is open
    snap = breaker.snapshot()
    assert (snap.state, snap.failures, snap.last_error) == ("open", 3, "connection refused")
    assert snap.opened_at == datetime.fromtimestamp(1_000_000.0, UTC)
    assert snap.retry_at == datetime.fromtimestamp(1_000_030.0, UTC)
    calls = []
    with pytest.raises(CircuitOpen, match=r"storage is paused after 3 failed call\(s\)"):
        breaker.call(lambda: calls.append(1), outage)
    assert calls == []  # nothing was called


def test_half_open_allows_one_trial_which_decides():
    clock = Clock()
    breaker = CircuitBreaker("storage", threshold=1, reset_seconds=10, clock=clock)
    fail(breaker)
    clock.now += 9.9
    assert breaker.state == "open"
    clock.now += 0.2
    assert breaker.state == "half-open"
    breaker.before_call()  # the trial claims the slot...
    with pytest.raises(CircuitOpen, match="a trial call is in progress"):
        breaker.before_call()  # ...so a concurrent call is refused
    breaker.record_failure("still down")
    assert breaker.state == "open"  # a failed trial reopens at once, for a new cool-down
    assert breaker.snapshot().retry_at == datetime.fromtimestamp(clock.now + 10, UTC)
    clock.now += 10
    assert breaker.call(lambda: "ok", outage) == "ok"
    snap = breaker.snapshot()
    assert (snap.state, snap.failures, snap.opened_at, snap.retry_at) == ("closed", 0, None, None)


def test_answers_that_are_not_outages_do_not_count():
    breaker = CircuitBreaker("storage", threshold=2, clock=Clock())
    fail(breaker)
    fail(breaker, ValueError("access denied"))  # the service answered: it is up
    fail(breaker)
    assert breaker.state == "closed" and breaker.snapshot().failures == 1


def test_registry_keeps_one_breaker_per_name_and_reports_unknown_as_closed():
    registry = BreakerRegistry(clock=Clock())
    first = registry.get("a", threshold=2, reset_seconds=5)
    assert registry.get("a", threshold=4, reset_seconds=9) is first
    assert (first.threshold, first.reset_seconds) == (4, 9)
    assert registry.snapshot("never-called").state == "closed"
    registry.forget("a")
    assert registry.get("a") is not first


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker("x", threshold=0)

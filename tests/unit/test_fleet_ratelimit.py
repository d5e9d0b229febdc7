"""Token buckets per credential, with a clock we control."""

from __future__ import annotations

import pytest

from core.api.ratelimit import TokenBucketLimiter, retry_after


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate():
    clock = Clock()
    limiter = TokenBucketLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.take("d1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("d1") == pytest.approx(0.5)  # one token every 0.5 s
    assert limiter.take("d2") == 0.0  # another key has its own bucket
    clock.now += 0.25
    assert limiter.take("d1") == pytest.approx(0.25)
    clock.now += 0.25
    assert limiter.take("d1") == 0.0
    clock.now += 60  # refills up to the burst, no further
    assert [limiter.take("d1") for _ in range(4)][-1] == pytest.approx(0.5)


def test_retry_after_is_whole_seconds_at_least_one():
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 7.9)] == ["1", "1", "2", "8"]


def test_old_keys_are_dropped_beyond_the_bound():
    clock = Clock()
    limiter = TokenBucketLimiter(rate=1, burst=1, clock=clock, max_keys=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # evicts "a", which starts afresh with a full bucket
    assert limiter.take("a") == 0.0
    assert limiter.take("c") > 0


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        TokenBucketLimiter(rate=0, burst=1)

"""The in-process sliding window counter: the same decisions as `limits`' counter, at any limit."""

from __future__ import annotations

import asyncio

import pytest

from app.accounts.limiter import WINDOW, LocalLimiter


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def hits(limiter: LocalLimiter, key: str, limit: int, count: int) -> int:
    async def run() -> int:
        return sum([await limiter.hit(key, limit) for _ in range(count)])

    return asyncio.run(run())


def free_at(limiter: LocalLimiter, key: str, limit: int) -> float:
    return asyncio.run(limiter.free_at(key, limit))


def test_a_fresh_window_admits_exactly_the_limit() -> None:
    clock = Clock(10 * WINDOW + 5)
    limiter = LocalLimiter(clock)
    assert hits(limiter, "a", 5, 8) == 5
    assert free_at(limiter, "a", 5) > clock.now


def test_keys_are_independent() -> None:
    limiter = LocalLimiter(Clock(1000 * WINDOW))
    assert hits(limiter, "a", 3, 5) == 3
    assert hits(limiter, "b", 3, 5) == 3


def test_the_previous_minute_fades_linearly() -> None:
    clock = Clock(100 * WINDOW)
    limiter = LocalLimiter(clock)
    assert hits(limiter, "k", 10, 10) == 10
    clock.now += WINDOW  # start of the next window: the whole previous minute still counts
    assert hits(limiter, "k", 10, 1) == 0
    clock.now += WINDOW / 2  # halfway: 10 * 0.5 = 5 counted, so 5 more fit
    assert hits(limiter, "k", 10, 10) == 5
    clock.now += 2 * WINDOW  # a whole window with nothing: the counts are gone
    assert hits(limiter, "k", 10, 12) == 10


@pytest.mark.parametrize("limit", [1, 5, 300, 3000])
def test_free_at_is_when_the_next_hit_succeeds(limit: int) -> None:
    clock = Clock(500 * WINDOW + 7.5)
    limiter = LocalLimiter(clock)
    assert hits(limiter, "k", limit, limit + 3) == limit
    moment = free_at(limiter, "k", limit)
    assert clock.now < moment <= clock.now + 2 * WINDOW
    clock.now = moment - 0.01
    assert hits(limiter, "k", limit, 1) == 0
    clock.now = moment + 1e-6
    assert hits(limiter, "k", limit, 1) == 1


def test_free_at_is_now_when_there_is_room() -> None:
    clock = Clock(42 * WINDOW)
    limiter = LocalLimiter(clock)
    hits(limiter, "k", 10, 3)
    assert free_at(limiter, "k", 10) == clock.now


def test_never_more_than_twice_the_limit_in_any_60_seconds() -> None:
    """The counter's known bound (the same as the library's): a steady client stays at the limit."""
    clock = Clock(7 * WINDOW)
    limiter = LocalLimiter(clock)
    admitted: list[float] = []
    for _ in range(6000):  # one try every 0.05 s over 5 minutes, limit 60 a minute
        if hits(limiter, "k", 60, 1):
            admitted.append(clock.now)
        clock.now += 0.05
    per_minute = [sum(1 for t in admitted if start <= t < start + WINDOW) for start in admitted]
    assert max(per_minute) <= 120
    assert 60 * 5 * 0.9 <= len(admitted) <= 60 * 5 + 60

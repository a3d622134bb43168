"""Requests-per-minute limits as sliding window counters: in this process, or in Redis through `limits`.

Both count the same way (the algorithm of `limits`' `SlidingWindowCounterRateLimiter`, and Cloudflare's own
rate limiting): a counter for the current minute and the one before, the earlier one weighted by how much of
it the last 60 s still cover. With Redis (several workers or replicas) the `limits` library does it in one
server-side script a hit. In one process the same arithmetic is done here on a three-slot list: the library's
in-process storage costs 6.8 us a hit on the bench machine (an asyncio lock, an expiry task, six wrapper
calls), this 0.4 us, and the pool runs one hit on every request (docs/accounts.md, "Cost").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import SlidingWindowCounterRateLimiter

WINDOW = 60.0


class Limiter(Protocol):
    async def hit(self, key: str, per_minute: int) -> bool:
        """Takes a slot under `key` if the last minute holds fewer than `per_minute`; False if not."""
        ...

    async def free_at(self, key: str, per_minute: int) -> float:
        """The Unix time the next slot under `key` frees up (now, if one is free)."""
        ...


class LocalLimiter:
    """Sliding window counters in a dict: `[window index, hits in it, hits in the one before]` per key."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._windows: dict[str, list[float]] = {}
        self._clock = clock

    def _current(self, key: str, now: float) -> list[float]:
        index = now // WINDOW
        slot = self._windows.get(key)
        if slot is None:
            slot = self._windows[key] = [index, 0.0, 0.0]
        elif slot[0] != index:
            slot[2] = slot[1] if slot[0] == index - 1 else 0.0
            slot[1] = 0.0
            slot[0] = index
        return slot

    async def hit(self, key: str, per_minute: int) -> bool:
        return self.take(key, per_minute, self._clock())

    def take(self, key: str, per_minute: int, now: float) -> bool:
        """`hit` without a coroutine, at the time `now` (the pool's fast path)."""
        slot = self._windows.get(key)
        if slot is None or slot[0] != now // WINDOW:
            slot = self._current(key, now)
        if slot[2] * (1.0 - (now % WINDOW) / WINDOW) + slot[1] + 1 > per_minute:
            return False
        slot[1] += 1
        return True

    async def free_at(self, key: str, per_minute: int) -> float:
        now = self._clock()
        slot = self._current(key, now)
        start = slot[0] * WINDOW
        room = per_minute - 1 - slot[1]  # what the previous window's weighted share must fall to
        if room >= 0:
            if slot[2] <= room:
                return now
            return max(now, start + WINDOW * (1 - room / slot[2]))
        # Full on this window's own hits: in the next one, they are the earlier window that fades.
        return start + WINDOW + WINDOW * (1 - (per_minute - 1) / slot[1])


class SharedLimiter:
    """The same counters in the shared state's `limits` storage (Redis, or its in-process stand-in)."""

    def __init__(self, storage: object) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)  # type: ignore[arg-type]
        self._items: dict[int, RateLimitItem] = {}

    def _item(self, per_minute: int) -> RateLimitItem:
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return item

    async def hit(self, key: str, per_minute: int) -> bool:
        return await self._limiter.hit(self._item(per_minute), key)

    async def free_at(self, key: str, per_minute: int) -> float:
        stats = await self._limiter.get_window_stats(self._item(per_minute), key)
        return max(time.time(), float(stats.reset_time))

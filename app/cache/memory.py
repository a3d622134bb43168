"""The in-process cache: least recently used out first, and nothing older than its TTL."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from app.cache.base import CacheKey


class MemoryCache:
    """At most `max_entries` values, each kept `ttl` seconds; `max_entries=0` or `ttl=0` keeps nothing."""

    def __init__(self, max_entries: int, ttl: float) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[CacheKey, tuple[float, str]] = OrderedDict()
        self.hits = 0  # read by the status page
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: CacheKey) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: CacheKey, value: str) -> None:
        if self.max_entries <= 0 or self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

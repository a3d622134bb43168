"""The in-process cache: least recently used out first, and nothing older than its TTL."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", str, bytes)


class MemoryCache(Generic[K, V]):
    """At most `max_entries` values, each kept `ttl` seconds; `max_entries=0` or `ttl=0` keeps nothing.
    With `max_bytes`, the values' lengths together stay under it too (the oldest go first)."""

    def __init__(self, max_entries: int, ttl: float, *, max_bytes: int = 0) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.size = 0  # the values' lengths together, kept only with `max_bytes`
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.hits = 0  # read by the status page
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    async def get_many(self, keys: Sequence[K]) -> list[V | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: K, value: V) -> None:
        if self.max_entries <= 0 or self.ttl <= 0:
            return
        if self.max_bytes:
            if len(value) > self.max_bytes:  # would push out everything else, and still not fit
                return
            self._drop(key)
            self.size += len(value)
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries or (self.max_bytes and self.size > self.max_bytes):
            _, (_, oldest) = self._entries.popitem(last=False)
            if self.max_bytes:
                self.size -= len(oldest)

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and self.max_bytes:
            self.size -= len(entry[1])

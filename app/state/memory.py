"""`SharedState` in this process: dicts with expiry, and a byte bound on stored values."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from limits.aio.storage import MemoryStorage, Storage


class MemoryState:
    """Values are kept least-recently-stored first and evicted past `max_bytes`; counter sets are small
    and are only dropped when they expire."""

    backend = "memory"

    def __init__(self, *, max_bytes: int = 64 << 20, clock: Callable[[], float] = time.monotonic) -> None:
        self._values: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._counters: dict[str, tuple[float, dict[str, float]]] = {}
        self._clock = clock
        self._limits: MemoryStorage | None = None

    async def get(self, key: str) -> bytes | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._drop(key)
            return None
        return entry[1]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        values, size = self._values, len(value)
        self._drop(key)
        if size > self._max_bytes:
            return  # could never fit: storing it would only evict everything else
        values[key] = (self._clock() + ttl, value)
        self._bytes += size
        while self._bytes > self._max_bytes:
            self._drop(next(iter(values)))

    async def delete(self, key: str) -> bool:
        present = await self.get(key) is not None
        self._drop(key)
        return present

    async def add(self, key: str, increments: Mapping[str, float], ttl: float) -> None:
        now = self._clock()
        entry = self._counters.get(key)
        fields = entry[1] if entry is not None and entry[0] > now else {}
        for name, amount in increments.items():
            fields[name] = fields.get(name, 0) + amount
        self._counters[key] = (now + ttl, fields)
        if len(self._counters) > 4096:
            self._expire_counters(now)

    async def counters(self, key: str) -> dict[str, float]:
        entry = self._counters.get(key)
        if entry is None or entry[0] <= self._clock():
            return {}
        return dict(entry[1])

    def limits_storage(self) -> Storage:
        if self._limits is None:
            self._limits = MemoryStorage()
        return self._limits

    async def close(self) -> None:
        return None

    def _drop(self, key: str) -> None:
        entry = self._values.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    def _expire_counters(self, now: float) -> None:
        for key in [key for key, (expires, _) in self._counters.items() if expires <= now]:
            del self._counters[key]

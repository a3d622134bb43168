"""The translation cache on the shared state (REDIS_URL): every worker and replica reuses each other's
translations, and each keeps the ones it has seen in its own `MemoryCache` in front.

A lookup this process has answered before costs no round trip; any other costs one (the segments of a text
are asked together, one MGET), and a hit there is copied into the memory tier. Keys are a hash of the
`CacheKey` (the text never appears in a key), under `translate:`; values are the translation's UTF-8 bytes,
kept TRANSLATE_CACHE_SECONDS. If Redis is down the state serves from its in-process fallback (app/state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import orjson

from app.cache.base import CacheKey
from app.cache.memory import MemoryCache
from app.state.base import SharedState

PREFIX = "translate:"


def shared_key(key: CacheKey) -> str:
    """The state key of a cache key: a SHA-256 of the tuple (JSON, so no two tuples share a text)."""
    return PREFIX + hashlib.sha256(orjson.dumps(key)).hexdigest()


class SharedCache:
    """`local` first, then `state`; hits and misses counted here (the status page and /metrics read them)."""

    def __init__(self, local: MemoryCache, state: SharedState, ttl: float) -> None:
        self.local = local
        self.state = state
        self.ttl = ttl
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.local)

    async def get(self, key: CacheKey) -> str | None:
        return (await self.get_many((key,)))[0]

    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        found = await self.local.get_many(keys)
        missing = [index for index, value in enumerate(found) if value is None]
        if missing:
            stored = await self.state.get_many([shared_key(keys[index]) for index in missing])
            for index, raw in zip(missing, stored, strict=True):
                if raw is not None:
                    found[index] = value = raw.decode()
                    await self.local.set(keys[index], value)
        hits = sum(value is not None for value in found)
        self.hits += hits
        self.misses += len(found) - hits
        return found

    async def set(self, key: CacheKey, value: str) -> None:
        await self.local.set(key, value)
        await self.state.set(shared_key(key), value.encode(), self.ttl)

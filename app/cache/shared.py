"""A cache on the shared state (REDIS_URL): every worker and replica reuses each other's entries, and each
keeps the ones it has seen in its own `MemoryCache` in front.

A lookup this process has answered before costs no round trip; any other costs one (the segments of a text
are asked together, one MGET), and a hit there is copied into the memory tier. Keys are a hash of the
cache key (the text never appears in a key), under the cache's prefix (`translate:` for translations,
kept TRANSLATE_CACHE_SECONDS; `answer:` for the response cache). If Redis is down the state serves from
its in-process fallback (app/state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import orjson

from app.cache.memory import MemoryCache
from app.state.base import SharedState

PREFIX = "translate:"
K = TypeVar("K", bound=Hashable)
V = TypeVar("V", str, bytes)


def shared_key(key: object, prefix: str = PREFIX) -> str:
    """The state key of a cache key: a SHA-256 of the key (JSON, so no two tuples share a text)."""
    return prefix + hashlib.sha256(orjson.dumps(key)).hexdigest()


class SharedCache(Generic[K, V]):
    """`local` first, then `state`; hits and misses counted here (the status page and /metrics read them).
    Values travel as bytes: text as UTF-8, read back by `decode` (`bytes.decode`; bytes: as they are)."""

    def __init__(
        self,
        local: MemoryCache[K, V],
        state: SharedState,
        ttl: float,
        *,
        decode: Callable[[bytes], V],
        prefix: str = PREFIX,
    ) -> None:
        self.local: MemoryCache[K, V] = local
        self.state = state
        self.ttl = ttl
        self.prefix = prefix
        self.decode: Callable[[bytes], V] = decode
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.local)

    async def get(self, key: K) -> V | None:
        return (await self.get_many((key,)))[0]

    async def get_many(self, keys: Sequence[K]) -> list[V | None]:
        found: list[V | None] = await self.local.get_many(keys)
        missing = [index for index, value in enumerate(found) if value is None]
        if missing:
            stored = await self.state.get_many([shared_key(keys[index], self.prefix) for index in missing])
            for index, raw in zip(missing, stored, strict=True):
                if raw is not None:
                    found[index] = value = self.decode(raw)
                    await self.local.set(keys[index], value)
        hits = sum(value is not None for value in found)
        self.hits += hits
        self.misses += len(found) - hits
        return found

    async def set(self, key: K, value: V) -> None:
        await self.local.set(key, value)
        raw = value.encode() if isinstance(value, str) else value
        await self.state.set(shared_key(key, self.prefix), raw, self.ttl)

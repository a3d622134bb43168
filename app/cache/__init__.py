"""Caches behind one small async interface (`Cache`): the in-process one, and the shared one on Redis
(`SharedCache`, with a memory tier in front); and `Coalescer`, which lets concurrent identical calls share
one run."""

from __future__ import annotations

from app.cache.base import Cache, CacheKey
from app.cache.coalesce import Coalescer
from app.cache.memory import MemoryCache
from app.cache.shared import SharedCache
from app.state.base import SharedState

__all__ = ["Cache", "CacheKey", "Coalescer", "MemoryCache", "SharedCache", "translation_cache"]


def translation_cache(local: MemoryCache[CacheKey, str], state: SharedState | None) -> Cache:
    """`local` alone, or in front of the shared state when that is Redis (REDIS_URL). A cache turned off
    (no entries or no age) stays off on both tiers."""
    if state is None or state.backend == "memory" or local.max_entries <= 0 or local.ttl <= 0:
        return local
    return SharedCache(local, state, local.ttl, decode=bytes.decode)

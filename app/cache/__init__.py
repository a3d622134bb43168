"""Caches behind one small async interface (`Cache`), so a shared store (Redis) can stand in for the
in-process one; and `Coalescer`, which lets concurrent identical calls share one run."""

from __future__ import annotations

from app.cache.base import Cache, CacheKey
from app.cache.coalesce import Coalescer
from app.cache.memory import MemoryCache

__all__ = ["Cache", "CacheKey", "Coalescer", "MemoryCache"]

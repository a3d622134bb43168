"""The interface every cache implements."""

from __future__ import annotations

from typing import Protocol

# (engine, source language, target language, text): strings, so any store can serialise it.
CacheKey = tuple[str, str, str, str]


class Cache(Protocol):
    """An async key -> text store with its own size and age limits (a miss is None)."""

    async def get(self, key: CacheKey) -> str | None: ...

    async def set(self, key: CacheKey, value: str) -> None: ...

"""The interface every cache implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

# (engine, source language, target language, text): strings, so any store can serialise it.
CacheKey = tuple[str, str, str, str]


class Cache(Protocol):
    """An async key -> text store with its own size and age limits (a miss is None)."""

    async def get(self, key: CacheKey) -> str | None: ...

    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        """`get` of each key, in order (a shared store answers them in one round trip)."""
        ...

    async def set(self, key: CacheKey, value: str) -> None: ...

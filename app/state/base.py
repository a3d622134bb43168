"""The interface every shared-state backend implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from limits.aio.storage import Storage


class SharedState(Protocol):
    """Values with an age limit, and counters, shared by whoever uses the same backend.

    Keys are plain strings; users prefix them by feature (`responses:`, `usage:`, `account:`). Every method
    is atomic on its own: `add` increments each field server-side, never read-modify-write, so two
    processes adding to one counter never lose an increment.
    """

    backend: str  # "memory" or "redis": for logs, /readyz and metrics

    async def get(self, key: str) -> bytes | None:
        """The value stored under `key`, or None (never stored, deleted or expired)."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """`get` of each key, in order, in one round trip."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Stores `value` for `ttl` seconds (replacing any earlier value)."""
        ...

    async def delete(self, key: str) -> bool:
        """Removes `key`; True if it held a value."""
        ...

    async def add(self, key: str, increments: Mapping[str, float], ttl: float) -> None:
        """Adds each amount to its field of the counter set `key` (missing fields start at 0), then makes
        the whole set expire `ttl` seconds from now."""
        ...

    async def counters(self, key: str) -> dict[str, float]:
        """Every field of the counter set `key` ({} if none)."""
        ...

    def limits_storage(self) -> Storage:
        """Where the `limits` library keeps rate-limit windows for this backend (one storage per state)."""
        ...

    async def close(self) -> None:
        """Releases connections (a no-op in memory)."""
        ...

"""A `limits` storage that uses Redis while it answers and the in-process storage while it does not.

The switch is the owning `RedisState`'s: one failure anywhere flips both values and windows to memory
(logged once there), and its probe flips them back.
"""

from __future__ import annotations

from typing import Any, Protocol

from limits.aio.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage


class Switch(Protocol):
    """What the storage asks of its owner (`RedisState`): whether Redis is in use, and to hear a failure."""

    @property
    def up(self) -> bool: ...

    def failed(self, exc: BaseException) -> None: ...


class FailoverStorage(Storage, MovingWindowSupport, SlidingWindowCounterSupport):
    """Every call goes to `remote` while `owner.up`, else (or when it fails) to `local`."""

    STORAGE_SCHEME = None

    def __init__(self, remote: Any, local: Any, owner: Switch) -> None:
        super().__init__()
        self._remote = remote
        self._local = local
        self._owner = owner

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    async def close(self) -> None:
        """Closes the Redis connections limits opened (its storage has no close of its own)."""
        client = self._client()
        if client is not None:
            await client.aclose()

    async def reconnect(self) -> None:
        """Drops the Redis connections limits holds, so the next calls open fresh ones."""
        client = self._client()
        if client is not None:
            await client.connection_pool.disconnect()

    def _client(self) -> Any:
        return getattr(getattr(self._remote, "bridge", None), "storage", None)

    async def _call(self, name: str, *args: Any) -> Any:
        if self._owner.up:
            try:
                return await getattr(self._remote, name)(*args)
            except Exception as exc:  # the redis client's errors, wrapped or not by limits
                self._owner.failed(exc)
        return await getattr(self._local, name)(*args)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        result: int = await self._call("incr", key, expiry, amount)
        return result

    async def get(self, key: str) -> int:
        result: int = await self._call("get", key)
        return result

    async def get_expiry(self, key: str) -> float:
        result: float = await self._call("get_expiry", key)
        return result

    async def check(self) -> bool:
        return self._owner.up and bool(await self._remote.check())

    async def reset(self) -> int | None:
        result: int | None = await self._call("reset")
        return result

    async def clear(self, key: str) -> None:
        await self._call("clear", key)

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        result: bool = await self._call("acquire_entry", key, limit, expiry, amount)
        return result

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        result: tuple[float, int] = await self._call("get_moving_window", key, limit, expiry)
        return result

    async def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        result: bool = await self._call("acquire_sliding_window_entry", key, limit, expiry, amount)
        return result

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        result: tuple[int, float, int, float] = await self._call("get_sliding_window", key, expiry)
        return result

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        await self._call("clear_sliding_window", key, expiry)

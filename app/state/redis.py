"""`SharedState` in Redis (REDIS_URL), so several workers and replicas agree on every counter and limit.

Every operation is one round trip (counter sets: one Lua script doing HINCRBYFLOAT per field and PEXPIRE).
If Redis stops answering, the state says so once in the log, serves from an in-process `MemoryState` and
probes Redis in the background (with backoff); when Redis answers again it goes back to it. Socket timeouts
are short (REDIS_TIMEOUT_SECONDS), so a dead Redis costs a request at most that once, never a stall.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

import redis.asyncio as aioredis
from limits.aio.storage import Storage
from redis.exceptions import RedisError

from app.state.failover import FailoverStorage
from app.state.memory import MemoryState

log = logging.getLogger("app.state")
T = TypeVar("T")
FAILURES = (RedisError, OSError, asyncio.TimeoutError)
# KEYS[1] the counter set; ARGV: field, amount, field, amount, ..., ttl in ms. Atomic on the server.
ADD = """
for i = 1, #ARGV - 1, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[#ARGV])
"""


class RedisState:
    """The shared state on one Redis server, keys under `prefix`, with an in-process fallback."""

    backend = "redis"

    def __init__(self, url: str, *, prefix: str = "wag:", timeout: float = 0.05, probe_max: float = 10.0) -> None:
        self._url = url
        self._prefix = prefix
        self._timeout = timeout
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False, retry=None
        )
        self._add = self._redis.register_script(ADD)
        self._fallback = MemoryState()
        self._up = True
        self.outages = 0  # times Redis stopped answering (metrics: gateway_redis_outages_total)
        self._reason = ""
        self._since = 0.0
        self._probe_max = probe_max
        self._probe: asyncio.Task[None] | None = None
        self._limits: FailoverStorage | None = None

    @property
    def up(self) -> bool:
        """Redis is answering (False: serving from the in-process fallback)."""
        return self._up

    def health(self) -> tuple[bool, str]:
        """For /readyz and metrics: (Redis reachable, what is wrong in words)."""
        if self._up:
            return True, "redis reachable"
        since = int(time.time() - self._since)
        return False, f"redis unreachable for {since} s ({self._reason}); serving from memory"

    async def check(self) -> tuple[bool, str]:
        """For /readyz: asks Redis now (unless it is known down: the probe is on it), then `health()`."""
        if self._up:
            try:
                await self._redis.ping()
            except FAILURES as exc:
                self.failed(exc)
        return self.health()

    async def get(self, key: str) -> bytes | None:
        async def remote() -> bytes | None:
            value = await self._redis.get(self._prefix + key)
            return value if value is None or isinstance(value, bytes) else value.encode()

        return await self._either(remote, lambda: self._fallback.get(key))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []

        async def remote() -> list[bytes | None]:
            values = await self._redis.mget([self._prefix + key for key in keys])
            return [value if value is None or isinstance(value, bytes) else value.encode() for value in values]

        return await self._either(remote, lambda: self._fallback.get_many(keys))

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        async def remote() -> None:
            await self._redis.set(self._prefix + key, value, px=_ms(ttl))

        await self._either(remote, lambda: self._fallback.set(key, value, ttl))

    async def delete(self, key: str) -> bool:
        async def remote() -> bool:
            return bool(await self._redis.delete(self._prefix + key))

        return await self._either(remote, lambda: self._fallback.delete(key))

    async def add(self, key: str, increments: Mapping[str, float], ttl: float) -> None:
        args: list[str | float] = []
        for name, amount in increments.items():
            args += (name, repr(float(amount)))
        args.append(_ms(ttl))

        async def remote() -> None:
            await self._add(keys=[self._prefix + key], args=args)

        await self._either(remote, lambda: self._fallback.add(key, increments, ttl))

    async def counters(self, key: str) -> dict[str, float]:
        async def remote() -> dict[str, float]:
            fields = await self._redis.hgetall(self._prefix + key)
            return {_text(name): float(value) for name, value in fields.items()}

        return await self._either(remote, lambda: self._fallback.counters(key))

    def limits_storage(self) -> Storage:
        if self._limits is None:
            remote = _limits_redis(self._url, self._prefix, self._timeout)
            self._limits = FailoverStorage(remote, self._fallback.limits_storage(), self)
        return self._limits

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self._redis.aclose()
        if self._limits is not None:
            await self._limits.close()

    async def _either(self, remote: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        if self._up:
            try:
                return await remote()
            except FAILURES as exc:
                self.failed(exc)
        return await local()

    def failed(self, exc: BaseException) -> None:
        """Redis did not answer: switch to the fallback (logged once) and start probing for its return."""
        if not self._up:
            return
        self._up, self._reason, self._since = False, type(exc).__name__, time.time()
        self.outages += 1
        log.warning("redis unreachable (%s): serving from in-process state until it returns", self._reason)
        self._probe = asyncio.get_running_loop().create_task(self._wait_for_redis())

    async def _wait_for_redis(self) -> None:
        delay = 0.2
        while True:
            await asyncio.sleep(delay)
            try:
                await self._redis.ping()
                await self._reconnect()
            except FAILURES:
                delay = min(delay * 2, self._probe_max)
                continue
            self._up = True
            log.warning("redis reachable again: shared state back on redis")
            return

    async def _reconnect(self) -> None:
        # The pools' idle connections still hold sockets the old server closed, and redis-py does not always
        # notice before it writes to one: each would fail one call and send the state back to memory.
        await self._redis.connection_pool.disconnect()
        if self._limits is not None:
            await self._limits.reconnect()


def _text(name: bytes | str) -> str:
    return name.decode() if isinstance(name, bytes) else name


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


def _limits_redis(url: str, prefix: str, timeout: float) -> Storage:
    from limits.aio.storage import RedisStorage

    return RedisStorage(
        "async+" + url,
        implementation="redispy",
        key_prefix=prefix + "limits",
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )

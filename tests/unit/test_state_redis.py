"""RedisState against a real redis-server: one limit across two states, and Redis stopped and restarted."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from app.state.redis import RedisState
from tests.redis_server import RedisServer


@pytest.fixture
def server() -> object:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_two_states_share_one_limit_and_counter(server: RedisServer) -> None:
    async def go() -> tuple[int, dict[str, float], dict[str, float]]:
        one, two = RedisState(server.url, timeout=2), RedisState(server.url, timeout=2)
        limit = parse("5/minute")
        limiters = [MovingWindowRateLimiter(s.limits_storage()) for s in (one, two)]
        allowed = sum([await limiters[i % 2].hit(limit, "acct") for i in range(12)])
        await asyncio.gather(*(s.add("usage:a", {"neurons": 0.5}, 60) for s in (one, two) for _ in range(10)))
        result = allowed, await one.counters("usage:a"), await two.counters("usage:a")
        await one.close()
        await two.close()
        return result

    allowed, seen_one, seen_two = asyncio.run(go())
    assert allowed == 5
    assert seen_one == seen_two == {"neurons": 10.0}


def test_redis_down_serves_from_memory_then_returns(server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        state = RedisState(server.url, timeout=0.2, probe_max=0.5)
        limiter, limit = MovingWindowRateLimiter(state.limits_storage()), parse("5/minute")
        assert await limiter.hit(limit, "k")
        await state.add("c", {"n": 1}, 60)
        server.stop()
        with caplog.at_level(logging.WARNING, logger="app.state"):
            started = time.monotonic()
            for _ in range(20):  # every call answers (from memory), none stalls on the dead server
                await state.add("c", {"n": 1}, 60)
            await state.set("v", b"x", 60)
            assert await state.get("v") == b"x"
            assert time.monotonic() - started < 5
        assert not state.up and state.health()[0] is False
        assert [r.getMessage() for r in caplog.records].count(
            "redis unreachable (ConnectionError): serving from in-process state until it returns"
        ) == 1
        assert await state.counters("c") == {"n": 20}  # the fallback's figures while Redis is away
        server.start()
        deadline = time.monotonic() + 20
        while not state.up and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert state.up and state.health() == (True, "redis reachable")
        # Connections opened before the restart are not used again: none fails a call (and flips it back).
        assert await limiter.hit(limit, "k")
        assert state.up and await state.get_many(["v", "w"]) == [None, None]  # Redis's (empty), not memory's
        await state.add("after", {"n": 2}, 60)
        other = RedisState(server.url, timeout=2)
        assert await other.counters("after") == {"n": 2}  # written after the return: in Redis
        await other.close()
        await state.close()

    asyncio.run(go())

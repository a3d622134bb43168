"""The SharedState contract, as every backend must keep it (the `state` fixture names the backends)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Mapping

import pytest

from app.state import MemoryState, SharedState
from app.state.redis import RedisState

# Redis keeps its own time: for it, the tests' ages are scaled down and the clock really waits.
SCALE = 0.05


class Clock:
    def __init__(self, real: bool = False) -> None:
        self._now = 1000.0
        self.real = real

    @property
    def now(self) -> float:
        return self._now

    @now.setter
    def now(self, value: float) -> None:
        if self.real:
            time.sleep((value - self._now) * SCALE)
        self._now = value

    def __call__(self) -> float:
        return self._now


class Scaled:
    """A RedisState with ages scaled by SCALE, each call on a fresh event loop (asyncio.run per call)."""

    backend = "redis"

    def __init__(self, url: str) -> None:
        self.url, self.prefix = url, f"test:{uuid.uuid4().hex}:"

    def _state(self) -> RedisState:
        return RedisState(self.url, prefix=self.prefix, timeout=2.0)

    async def get(self, key: str) -> bytes | None:
        return await self._run(lambda s: s.get(key))

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        return await self._run(lambda s: s.get_many(keys))

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._run(lambda s: s.set(key, value, ttl * SCALE))

    async def delete(self, key: str) -> bool:
        return await self._run(lambda s: s.delete(key))

    async def add(self, key: str, increments: Mapping[str, float], ttl: float) -> None:
        await self._run(lambda s: s.add(key, increments, ttl * SCALE))

    async def counters(self, key: str) -> dict[str, float]:
        return await self._run(lambda s: s.counters(key))

    async def _run(self, call: object) -> object:  # type: ignore[no-untyped-def]
        state = self._state()
        try:
            result = await call(state)  # type: ignore[operator]
            assert state.up, state.health()
            return result
        finally:
            await state.close()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock(backend: str) -> Clock:
    return Clock(real=backend == "redis")


@pytest.fixture
def state(backend: str, clock: Clock, request: pytest.FixtureRequest) -> Iterator[SharedState]:
    if backend == "redis":
        yield Scaled(request.getfixturevalue("redis_server").url)  # type: ignore[misc]
    else:
        yield MemoryState(max_bytes=100, clock=clock)


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_set_get_delete(state: SharedState) -> None:
    assert run(state.get("a")) is None
    run(state.set("a", b"one", 60))
    assert run(state.get("a")) == b"one"
    run(state.set("a", b"two", 60))
    assert run(state.get("a")) == b"two"
    assert run(state.delete("a")) is True
    assert run(state.delete("a")) is False
    assert run(state.get("a")) is None


def test_get_many_answers_in_order(state: SharedState, clock: Clock) -> None:
    assert run(state.get_many([])) == []
    run(state.set("a", b"one", 60))
    run(state.set("c", b"three", 10))
    assert run(state.get_many(["a", "b", "c", "a"])) == [b"one", None, b"three", b"one"]
    clock.now += 10.2
    assert run(state.get_many(["a", "c"])) == [b"one", None]


def test_values_expire(state: SharedState, clock: Clock) -> None:
    run(state.set("a", b"x", 10))
    clock.now += 5
    assert run(state.get("a")) == b"x"
    clock.now += 5.2
    assert run(state.get("a")) is None
    assert run(state.delete("a")) is False


def test_counters_add_up_and_expire_together(state: SharedState, clock: Clock) -> None:
    assert run(state.counters("usage:a")) == {}
    run(state.add("usage:a", {"neurons": 1.5, "requests": 1}, 60))
    run(state.add("usage:a", {"neurons": 2.25, "errors": 1}, 60))
    assert run(state.counters("usage:a")) == {"neurons": 3.75, "requests": 1, "errors": 1}
    assert run(state.counters("usage:b")) == {}
    clock.now += 61
    assert run(state.counters("usage:a")) == {}
    run(state.add("usage:a", {"requests": 1}, 60))
    assert run(state.counters("usage:a")) == {"requests": 1}  # a new set, not the expired one revived


def test_counters_returned_are_copies(state: SharedState) -> None:
    run(state.add("c", {"n": 1}, 60))
    run(state.counters("c")).clear()  # type: ignore[attr-defined]
    assert run(state.counters("c")) == {"n": 1}


def test_memory_values_are_bounded_in_bytes() -> None:
    clock = Clock()
    state = MemoryState(max_bytes=100, clock=clock)
    run(state.set("old", b"o" * 60, 60))
    run(state.set("new", b"n" * 60, 60))
    assert run(state.get("old")) is None  # evicted: the oldest goes first
    assert run(state.get("new")) == b"n" * 60
    run(state.set("huge", b"h" * 101, 60))
    assert run(state.get("huge")) is None and run(state.get("new")) == b"n" * 60  # never fits, evicts nothing

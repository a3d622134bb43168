"""The SharedState contract, as every backend must keep it (the `state` fixture names the backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.state import MemoryState, SharedState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory"])
def state(request: pytest.FixtureRequest, clock: Clock) -> Iterator[SharedState]:
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


def test_values_expire(state: SharedState, clock: Clock) -> None:
    run(state.set("a", b"x", 10))
    clock.now += 9.9
    assert run(state.get("a")) == b"x"
    clock.now += 0.2
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


def test_memory_values_are_bounded_in_bytes(clock: Clock) -> None:
    state = MemoryState(max_bytes=100, clock=clock)
    run(state.set("old", b"o" * 60, 60))
    run(state.set("new", b"n" * 60, 60))
    assert run(state.get("old")) is None  # evicted: the oldest goes first
    assert run(state.get("new")) == b"n" * 60
    run(state.set("huge", b"h" * 101, 60))
    assert run(state.get("huge")) is None and run(state.get("new")) == b"n" * 60  # never fits, evicts nothing

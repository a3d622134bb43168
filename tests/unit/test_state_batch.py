"""CounterBatch: increments merged in this process, written to the state once per interval."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from app.state import MemoryState
from app.state.batch import CounterBatch


class Counting(MemoryState):
    """The in-process state, counting the `add` calls that reach it (each is a Redis command there)."""

    def __init__(self) -> None:
        super().__init__()
        self.adds = 0

    async def add(self, key: str, increments: Mapping[str, float], ttl: float) -> None:
        self.adds += 1
        await super().add(key, increments, ttl)


def test_increments_are_merged_and_written_once_per_interval() -> None:
    async def go() -> None:
        state = Counting()
        batch = CounterBatch(state, interval=0.05)
        for _ in range(100):
            batch.add("usage:a", {"neurons": 0.5, "req:m": 1}, 60)
        batch.add("usage:b", {"neurons": 2}, 60)
        assert state.adds == 0 and await state.counters("usage:a") == {}  # nothing written yet
        await asyncio.sleep(0.15)
        assert state.adds == 2
        assert await state.counters("usage:a") == {"neurons": 50.0, "req:m": 100}
        assert await state.counters("usage:b") == {"neurons": 2}
        batch.add("usage:a", {"neurons": 1}, 60)
        await batch.flush()  # at once, not an interval later
        assert state.adds == 3 and (await state.counters("usage:a"))["neurons"] == 51.0
        await batch.flush()  # nothing pending: no write
        assert state.adds == 3

    asyncio.run(go())

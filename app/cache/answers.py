"""The response cache's store: whole Workers AI answers by a hash of what was asked (docs/cache.md).

An entry is the upstream answer as it came (a JSON result, a binary body, or the data of a stream's events,
in the batches they arrived in), what it cost in neurons, and when it was made. The key is a SHA-256 of
the model id, the payload as sent upstream (without `stream`: a whole answer serves a streamed request too)
and its owner (the caller's key id when keys are kept apart): never a prompt or a key in clear. In memory
by default (bounded in entries and bytes, with a TTL), with the shared state (Redis) behind it when there
is one, so replicas answer each other's repeats.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.cache.coalesce import Coalescer
from app.cache.memory import MemoryCache
from app.cache.shared import SharedCache
from app.state.base import SharedState
from app.state.batch import CounterBatch

PREFIX = "answer:"
SAVED = "saved:"  # the shared state's counter of neurons saved on one UTC day
DAY = 86_400.0
RESULT, BINARY, EVENTS = "result", "binary", "events"


def answer_key(model_id: str, payload: Mapping[str, Any], owner: str) -> str:
    """The entry's key: the same for requests Workers AI would get as the same call, whatever their
    `stream` flag or the order of their fields."""
    asked = {name: value for name, value in payload.items() if name != "stream"}
    canonical = orjson.dumps([model_id, owner, asked], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached answer. `body`: the result's JSON, a binary answer's bytes, or the events' batches as JSON
    (a list of lists of event data)."""

    kind: str
    body: bytes
    neurons: float
    created: float = field(default_factory=time.time)
    content_type: str = ""

    def encode(self) -> bytes:
        head = {"kind": self.kind, "neurons": self.neurons, "created": self.created, "type": self.content_type}
        return orjson.dumps(head) + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry | None:
        """The entry, or None for bytes that are not one (written by another version: a miss)."""
        head, _, body = raw.partition(b"\n")
        try:
            meta = orjson.loads(head)
            return cls(meta["kind"], body, float(meta["neurons"]), float(meta["created"]), meta["type"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def events(self) -> list[list[bytes]]:
        batches: list[list[str]] = orjson.loads(self.body)
        return [[event.encode() for event in batch] for batch in batches]

    @staticmethod
    def of_events(batches: list[list[bytes]], neurons: float) -> Entry:
        body = orjson.dumps([[event.decode() for event in batch] for batch in batches])
        return Entry(EVENTS, body, neurons)


class Tally:
    """Lookups and neurons saved, by (route, model), for /metrics; neurons saved today (UTC) for the status
    page: this process's, and with a shared state (Redis) every replica's, added up there under
    `saved:<day>` (written at most once a second, off the request's path)."""

    def __init__(self, state: SharedState | None = None) -> None:
        self.lookups: dict[tuple[str, str, str], int] = {}  # (route, model, "hit"/"miss"): count
        self.saved: dict[tuple[str, str], float] = {}  # (route, model): neurons
        self.saved_here_today = 0.0
        self._state = state if state is not None and state.backend != "memory" else None
        self._batch = CounterBatch(self._state, interval=1.0) if self._state is not None else None
        self._day = ""
        self._day_ends = 0.0  # when `_day` ends: Unix time of its 00:00 UTC

    def count(self, route: str, model: str, result: str, saved: float = 0.0) -> None:
        key = (route, model, result)
        self.lookups[key] = self.lookups.get(key, 0) + 1
        if saved:
            self.saved[(route, model)] = self.saved.get((route, model), 0.0) + saved
            self._roll()
            self.saved_here_today += saved
            if self._batch is not None:
                self._batch.add(SAVED + self._day, {"neurons": saved}, 2 * DAY)

    async def saved_today(self) -> float:
        """Neurons the cache's answers saved today: every replica's with a shared state, else this process's."""
        self._roll()
        if self._state is None or self._batch is None:
            return self.saved_here_today
        await self._batch.flush()
        return (await self._state.counters(SAVED + self._day)).get("neurons", 0.0)

    def _roll(self) -> None:
        now = time.time()
        if now >= self._day_ends:  # a new UTC day starts from 0
            self.saved_here_today = 0.0
            self._day = time.strftime("%Y-%m-%d", time.gmtime(now))
            self._day_ends = (now // DAY + 1) * DAY


def _as_is(raw: bytes) -> bytes:
    return raw


class AnswerCache:
    """Entries by key, the calls in flight by key, and the tally."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        ttl: float,
        state: SharedState | None = None,
    ) -> None:
        local: MemoryCache[str, bytes] = MemoryCache(max_entries, ttl, max_bytes=max_bytes)
        self.on = max_entries > 0 and max_bytes > 0 and ttl > 0
        self.store: MemoryCache[str, bytes] | SharedCache[str, bytes] = local
        if self.on and state is not None and state.backend != "memory":
            self.store = SharedCache(local, state, ttl, decode=_as_is, prefix=PREFIX)
        self.ttl = ttl
        self.max_bytes = max_bytes  # a stream that grows past it is passed on, not kept
        self.calls: Coalescer[str, Any] = Coalescer()  # whole answers being fetched
        self.streams: dict[str, asyncio.Future[Entry | None]] = {}  # streamed answers being recorded
        self.tally = Tally(state)

    async def get(self, key: str, max_age: float | None = None) -> Entry | None:
        raw = await self.store.get(key)
        entry = Entry.decode(raw) if raw is not None else None
        if entry is not None and max_age is not None and time.time() - entry.created > max_age:
            return None
        return entry

    async def put(self, key: str, entry: Entry) -> None:
        if self.on:
            await self.store.set(key, entry.encode())

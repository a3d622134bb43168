"""How `translate` groups a streamed answer into writes: each write wakes the client once."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from app.catalog import Catalog
from app.convert.stream import StreamState
from app.serving.streams import ChunkWriter, translate
from app.sse import DONE

MODEL = Catalog().resolve("@cf/meta/llama-3.1-8b-instruct-fast")


class Batches:
    """Stands in for an upstream `Stream`: hands over the given batches, one a read."""

    def __init__(self, batches: list[list[bytes]]) -> None:
        self.batches = list(batches)
        self.closed = False

    async def next_batch(self) -> list[bytes] | None:
        return self.batches.pop(0) if self.batches else None

    def watch(self, progress: object) -> None:
        pass  # the stall timer is the pool's (tests/unit/test_connection_pool_hostile.py)

    async def aclose(self) -> None:
        self.closed = True


def event(text: str) -> bytes:
    return orjson.dumps({"response": text, "p": "abc"})


def writes(batches: list[list[bytes]]) -> tuple[list[bytes], Batches]:
    stream = Batches(batches)
    writer = ChunkWriter("m", 1)
    states = [StreamState(MODEL, max_tokens=100, stops=())]

    async def collect() -> list[bytes]:
        body = translate([stream], states, writer, writer.role(0), False, lambda: 1)  # type: ignore[list-item]
        return [frame async for frame in body]

    return asyncio.run(collect()), stream


def contents(write: bytes) -> list[Any]:
    events = [orjson.loads(line[6:]) for line in write.split(b"\n\n") if line and line != DONE.strip()]
    return [e["choices"][0]["delta"].get("content") for e in events] + (["[DONE]"] if DONE in write else [])


def test_role_leaves_with_the_first_token_and_the_last_tokens_with_the_end() -> None:
    sent, stream = writes([[event("Hel")], [event("lo")], [event(","), event(" you"), b"[DONE]"]])
    assert [contents(w) for w in sent] == [["", "Hel"], ["lo"], [",", " you", None, "[DONE]"]]
    assert stream.closed


def test_an_answer_read_in_one_go_is_one_write() -> None:
    sent, _ = writes([[event("Hi"), event("!"), b"[DONE]"]])
    assert [contents(w) for w in sent] == [["", "Hi", "!", None, "[DONE]"]]


def test_done_alone_still_ends_the_answer() -> None:
    sent, _ = writes([[event("Hi")], [b"[DONE]"]])
    assert [contents(w) for w in sent] == [["", "Hi"], [None, "[DONE]"]]

"""A stream that sends bytes but no content (issue 14, row 9) through the real pool and `translate`, for
one choice and for n > 1: the client gets the head early, then the in-band error and [DONE] after the read
timeout, and every connection comes back; and one that goes silent after content (issue 27), which ends one
read timeout after its last byte."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
import uvloop

from app.catalog import Catalog
from app.convert.stream import StreamState
from app.serving.streams import ChunkWriter, translate
from app.upstream.client import Stream
from tests.unit.test_connection_pool_hostile import CREDS, MODEL, SSE_HEAD, Hostile, chunk, client, settled

EMPTY = chunk(b'data: {"response":"","p":"abc"}\n\n')


async def empty_events(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(SSE_HEAD)
    while not writer.is_closing():
        writer.write(EMPTY)
        await writer.drain()
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("n", [1, 2])
def test_empty_events_end_in_band_after_the_read_timeout(n: int) -> None:
    async def main() -> None:
        async with Hostile(empty_events, bad=n) as server:
            upstream = client(server.port, read_timeout=1.6, max_connections=n)
            await upstream.start()
            streams = [await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True}) for _ in range(n)]
            assert all(isinstance(s, Stream) for s in streams)
            model = Catalog().resolve(MODEL)
            states = [StreamState(model, max_tokens=100, stops=()) for _ in range(n)]
            writer = ChunkWriter("m", 1)
            roles = b"".join(writer.role(i) for i in range(n))
            started = time.monotonic()
            frames: list[tuple[float, bytes]] = []
            async for frame in translate(streams, states, writer, roles, False, lambda: 1):  # type: ignore[arg-type]
                frames.append((time.monotonic() - started, frame))
            first_at, first = frames[0]
            assert first == roles and 0.9 < first_at < 1.5  # the head and roles after 1 s of empty events
            ended_at, last = frames[-1]
            assert 1.5 < ended_at < 4.0, ended_at  # 1.6-2.0 s on an idle machine
            error_frame, done = last.split(b"\n\n")[:2]
            assert orjson.loads(error_frame[len(b"data: ") :])["error"]["code"] == "upstream_timeout"
            assert done == b"data: [DONE]"
            counters = await settled(upstream)
            assert counters["busy"] == 0 and counters["waiting"] == 0, counters
            await upstream.close()

    uvloop.run(main())


async def content_then_silence(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(SSE_HEAD + chunk(b'data: {"response":"a"}\n\n'))
    await writer.drain()
    await asyncio.sleep(3600)  # then nothing at all: no byte, no event
    return False


def test_a_silence_after_content_ends_one_read_timeout_after_the_last_byte() -> None:
    """The stall timer first looks one read timeout after the head and finds the content new: dated by the
    socket's last read, the silence still ends then, not one more timeout later (issue 27)."""

    async def main() -> None:
        async with Hostile(content_then_silence) as server:
            upstream = client(server.port, read_timeout=1.0)
            await upstream.start()
            stream = await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
            assert isinstance(stream, Stream)
            state = StreamState(Catalog().resolve(MODEL), max_tokens=100, stops=())
            writer = ChunkWriter("m", 1)
            started = time.monotonic()
            frames = [frame async for frame in translate([stream], [state], writer, writer.role(0), False, lambda: 1)]
            took = time.monotonic() - started
            assert b'"content":"a"' in frames[0]
            assert b'"code":"upstream_timeout"' in frames[-1] and frames[-1].endswith(b"data: [DONE]\n\n")
            assert 0.9 < took < 1.6, took  # 2 s before: the content was dated when the timer saw it
            await upstream.close()

    uvloop.run(main())

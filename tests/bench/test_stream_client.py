"""The bench's SSE timing client against a scripted loopback server: framing across reads, what counts
as a token, [DONE], keep-alive reuse, and answers that are not streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.stream_client import StreamClient, StreamRequest, openai_text

ROLE = b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'


def _token(text: str) -> bytes:
    return b'data: {"choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % text.encode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@asynccontextmanager
async def scripted(status: int = 200) -> AsyncIterator[tuple[int, list[int]]]:
    """A server that answers each request with a chunked SSE stream written in pieces, 5 ms apart
    (or a JSON error); yields its port and the number of connections it accepted (a one-item list)."""
    accepted = [0]
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Task[object] | None] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        writers.append(writer)
        handlers.append(asyncio.current_task())
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client hung up

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            await reader.readexactly(2)  # the body, `{}`
            if status != 200:
                body = b'{"error":{"message":"no"}}'
                writer.write(b"HTTP/1.1 %d Nope\r\ncontent-length: %d\r\n\r\n%s" % (status, len(body), body))
                continue
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            first = _chunk(ROLE + _token("a"))
            writer.write(first[:7])  # the first chunk split mid-way across two reads
            await writer.drain()
            await asyncio.sleep(0.005)
            writer.write(first[7:])
            for text in ("b", "c"):
                await asyncio.sleep(0.005)
                writer.write(_chunk(_token(text)))
            await asyncio.sleep(0.005)
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        server.close()
        for writer in writers:
            writer.close()
        # Each handler ends on its own once its connection is closed; left to asyncio.run() to cancel,
        # Python 3.11's stream callback logs the cancellation as an "Exception in callback".
        await asyncio.wait_for(asyncio.gather(*(h for h in handlers if h), return_exceptions=True), 5)
        await server.wait_closed()


def request(port: int) -> StreamRequest:
    return StreamRequest(f"http://127.0.0.1:{port}/v1/chat/completions", b"{}", {}, openai_text)


def test_tokens_are_timed_in_order_and_the_connection_is_reused() -> None:
    async def main() -> None:
        async with scripted() as (port, accepted), StreamClient(timeout=5) as client:
            samples = [await client.time(request(port)) for _ in range(3)]
        for sample in samples:
            assert sample.ok, sample
            assert len(sample.content_times) == 3  # the role chunk carries no text: not a token
            assert sample.content_times == sorted(sample.content_times)
            assert sample.ttft == sample.content_times[0] < sample.total  # sent 15 ms apart: timed as they came
            assert sample.total >= 0.015
        assert accepted[0] == 1

    asyncio.run(main())


def test_an_error_answer_is_not_a_stream() -> None:
    async def main() -> None:
        async with scripted(status=401) as (port, _), StreamClient(timeout=5) as client:
            sample = await client.time(request(port))
            again = await client.time(request(port))
        assert sample.status == 401 and not sample.ok and not sample.content_times
        assert again.status == 401  # the connection stayed usable after a Content-Length answer

    asyncio.run(main())


def test_nothing_listening_is_an_error_not_an_exception() -> None:
    async def main() -> None:
        async with scripted() as (port, _):
            pass
        async with StreamClient(timeout=5) as client:
            sample = await client.time(request(port))
        assert not sample.ok and sample.error is not None

    asyncio.run(main())

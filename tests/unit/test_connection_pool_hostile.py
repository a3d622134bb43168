"""The upstream client against a loopback server that misbehaves on purpose, the way a well-kept HTTP
client is tested: every failure is a GatewayError with the right status, and afterwards the pool has every
slot back and the next request works. On uvloop, the loop the gateway runs."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
import uvloop

from app.errors import GatewayError
from app.upstream.client import Credentials, Stream, WorkersAI
from tests.loopback import LoopbackServer

# A handler answers one request its own way; it returns True when the connection is still sane afterwards
# (the server then answers honestly on it), or never returns.
Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
CREDS = Credentials("acct", "token")
MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
OK_BODY = orjson.dumps({"success": True, "result": {"response": "fine"}})
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY)
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Hostile(LoopbackServer):
    """A loopback server: the first request on each of the first `bad` connections gets `handler`, every
    other request an honest answer."""

    def __init__(self, handler: Handler, *, bad: int = 1) -> None:
        super().__init__()
        self.handler = handler
        self.bad = bad
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        bad = self.connections <= self.bad
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if bad:
                    bad = False
                    if not await self.handler(head, reader, writer):
                        return
                    continue
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]) if b"ength:" in head else 0
                await reader.readexactly(length)
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def client(port: int, **options: Any) -> WorkersAI:
    settings: dict[str, Any] = {"timeout": 5.0, "read_timeout": 5.0, "max_connections": 1, **options}
    return WorkersAI(f"http://127.0.0.1:{port}/client/v4", **settings)


async def settled(upstream: WorkersAI) -> dict[str, int]:
    """The pool's counters once closed transports have run their callbacks."""
    for _ in range(50):
        await asyncio.sleep(0.01)
        counters = upstream.pool.counters
        if counters["busy"] == 0:
            break
    return upstream.pool.counters


async def still_works(upstream: WorkersAI) -> None:
    counters = await settled(upstream)
    assert counters["busy"] == 0 and counters["waiting"] == 0, counters
    assert await upstream.run(CREDS, MODEL, {"prompt": "again"}) == {"response": "fine"}


def sends(raw: bytes, *, then_close: bool = True, later: bytes = b"") -> Handler:
    """Writes `raw` (then `later`, a moment after), then closes the connection or carries on."""

    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        if later:
            await asyncio.sleep(0.2)
            writer.write(later)
            await writer.drain()
        return not then_close

    return handler


def stalls(raw: bytes) -> Handler:
    """Writes `raw` and then nothing, keeping the connection open."""

    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await asyncio.sleep(3600)
        return False

    return handler


def huge(total: int) -> Handler:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total)
        block = b"x" * 65536
        for _ in range(total // len(block)):
            writer.write(block)
            await writer.drain()
        return False

    return handler


def trickle(prefix: bytes) -> Handler:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(prefix)
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    return handler


BOMB = gzip.compress(b"\0" * (8 * 1024 * 1024))
CASES: dict[str, tuple[Handler, int, str]] = {
    "truncated head": (sends(b"HTTP/1.1 200 OK\r\nContent-Ty"), 502, "closed before the response ended"),
    "truncated body": (sends(OK[:-5]), 502, "closed before the response ended"),
    "close after the head": (sends(OK[: OK.index(b"\r\n\r\n") + 4]), 502, "closed before the response ended"),
    "bad chunk size": (
        sends(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n"),
        502,
        "malformed HTTP response",
    ),
    "not HTTP at all": (stalls(b"SSH-2.0-OpenSSH_9.2\r\n"), 502, "malformed HTTP response"),
    "101 switching protocols": (
        stalls(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        502,
        "malformed HTTP response",
    ),
    "unsupported encoding": (
        sends(OK.replace(b"Content-Length", b"Content-Encoding: br\r\nContent-Length"), then_close=False),
        502,
        "unsupported Content-Encoding 'br'",
    ),
    "gzip bomb": (
        sends(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(BOMB), BOMB),
            then_close=False,
        ),
        502,
        "exceeds UPSTREAM_MAX_RESPONSE_BYTES",
    ),
    "body over the cap": (huge(16 * 1024 * 1024), 502, "larger than 1048576 bytes (UPSTREAM_MAX_RESPONSE_BYTES)"),
    "endless head": (stalls(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"x" * 200_000), 502, "head is larger than 65536 bytes"),
    "trickling head": (trickle(b"HTTP/1.1 200 OK\r\nX-Pad: "), 504, "did not answer in time"),
    "trickling body": (trickle(OK.replace(b"Content-Length: ", b"Content-Length: 9")[:-20]), 504, "in time"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_answer_is_a_gateway_error_and_the_pool_recovers(case: str) -> None:
    handler, status, words = CASES[case]

    async def main() -> None:
        async with Hostile(handler) as server:
            upstream = client(server.port, timeout=1.0, max_response_bytes=1024 * 1024)
            await upstream.start()
            started = time.monotonic()
            with pytest.raises(GatewayError) as caught:
                await upstream.run(CREDS, MODEL, {"prompt": "hi"})
            assert time.monotonic() - started < 4.0
            assert caught.value.status_code == status
            assert words in caught.value.message
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_interim_1xx_answers_are_skipped() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nContent-Type: text/html\r\nLink: </a>\r\n\r\n"

    async def main() -> None:
        async with Hostile(sends(interim + OK, then_close=False)) as server:
            upstream = client(server.port)
            await upstream.start()
            assert await upstream.run(CREDS, MODEL, {"prompt": "hi"}) == {"response": "fine"}
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_a_peer_that_never_reads_a_large_request_body_is_bounded_by_the_timeout() -> None:
    async def deaf(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(3600)  # reads nothing more: the request body fills the socket buffers
        return False

    async def main() -> None:
        async with Hostile(deaf) as server:
            upstream = client(server.port, timeout=1.0)
            await upstream.start()
            started = time.monotonic()
            with pytest.raises(GatewayError) as caught:
                await upstream.run(CREDS, MODEL, b"x" * (32 * 1024 * 1024))
            assert caught.value.status_code == 504
            assert time.monotonic() - started < 4.0
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_an_answer_that_keeps_trickling_is_bounded_by_the_whole_call_timeout() -> None:
    """UPSTREAM_TIMEOUT bounds the whole non-streamed call, not each read: a byte every 0.1 s never goes
    silent, yet the call ends after `timeout`."""

    async def trickles(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
        for _ in range(10000):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)
        return False

    async def main() -> None:
        async with Hostile(trickles) as server:
            upstream = client(server.port, timeout=1.0, read_timeout=0.5)
            await upstream.start()
            started = time.monotonic()
            with pytest.raises(GatewayError) as caught:
                await upstream.run(CREDS, MODEL, {"prompt": "hi"})
            assert caught.value.status_code == 504
            assert 0.9 < time.monotonic() - started < 3.0
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_streams_answered_with_an_unknown_encoding_give_their_connections_back() -> None:
    """Row 7 of issue 14: two `br` streams, then a plain request, pool of 2."""
    br_stream = SSE_HEAD.replace(b"Transfer-Encoding", b"Content-Encoding: br\r\nTransfer-Encoding") + chunk(b"??")

    async def main() -> None:
        async with Hostile(sends(br_stream, then_close=False), bad=2) as server:
            upstream = client(server.port, max_connections=2)
            await upstream.start()
            for _ in range(2):
                with pytest.raises(GatewayError) as caught:
                    await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
                assert caught.value.status_code == 502 and "'br'" in caught.value.message
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


@pytest.mark.parametrize(
    ("tail", "status", "words"),
    [
        (b"", 502, "ended the stream before it finished"),  # closed without the last chunk
        (b"zz\r\n", 502, "malformed HTTP response"),
    ],
)
def test_a_stream_broken_midway_fails_in_band_and_frees_its_slot(tail: bytes, status: int, words: str) -> None:
    body = SSE_HEAD + chunk(b'data: {"response":"a"}\n\n')

    async def main() -> None:
        async with Hostile(sends(body, later=tail)) as server:
            upstream = client(server.port)
            await upstream.start()
            stream = await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
            assert isinstance(stream, Stream)
            assert await stream.next_batch() == [b'{"response":"a"}']
            with pytest.raises(GatewayError) as caught:
                await stream.next_batch()
            await stream.aclose()
            assert caught.value.status_code == status and words in caught.value.message
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_a_stream_nobody_reads_gives_its_slot_back_after_the_read_timeout() -> None:
    async def main() -> None:
        async with Hostile(stalls(SSE_HEAD)) as server:
            upstream = client(server.port, read_timeout=0.5)
            await upstream.start()
            stream = await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
            assert isinstance(stream, Stream)
            assert upstream.pool.counters["busy"] == 1
            await asyncio.sleep(1.5)  # abandoned, never read, never closed
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


@pytest.mark.parametrize("run", range(3))  # timing-dependent: several runs every time the suite runs
def test_waiting_for_a_slot_counts_towards_the_time_limit_then_503_with_retry_after(run: int) -> None:
    """Row 8 of issue 14: every connection held by a long stream, then a buffered request."""

    async def main() -> None:
        async with Hostile(stalls(SSE_HEAD)) as server:
            upstream = client(server.port, timeout=0.5, read_timeout=30.0)
            await upstream.start()
            held = await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
            started = time.monotonic()
            with pytest.raises(GatewayError) as caught:
                await upstream.run(CREDS, MODEL, {"prompt": "hi"})
            assert 0.4 < time.monotonic() - started < 3.0
            assert caught.value.status_code == 503
            assert caught.value.headers == {"Retry-After": "2"}
            assert upstream.pool.counters == {"open": 1, "idle": 0, "busy": 1, "waiting": 0}
            assert isinstance(held, Stream)
            await held.aclose()
            await still_works(upstream)
            await upstream.close()

    uvloop.run(main())


def test_close_ends_busy_streams_and_waiting_callers_at_once() -> None:
    async def main() -> None:
        async with Hostile(stalls(SSE_HEAD)) as server:
            upstream = client(server.port, timeout=30.0, read_timeout=30.0)
            await upstream.start()
            held = await upstream.stream(CREDS, MODEL, {"prompt": "hi", "stream": True})
            assert isinstance(held, Stream)
            reading = asyncio.create_task(held.next_batch())
            waiting = asyncio.create_task(upstream.run(CREDS, MODEL, {"prompt": "hi"}))
            await asyncio.sleep(0.1)
            pool = upstream.pool
            started = time.monotonic()
            await upstream.close()
            for task in (reading, waiting):
                with pytest.raises(GatewayError):
                    await asyncio.wait_for(task, 5)
            assert time.monotonic() - started < 2.0
            assert pool.counters == {"open": 0, "idle": 0, "busy": 0, "waiting": 0}

    uvloop.run(main())

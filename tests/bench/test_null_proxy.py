"""The bench's pass-through proxy (the floor under the streaming figures): what it forwards is exactly
what the fake upstream answered, so timing it measures transport alone."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn

from bench import endpoints
from bench.fake_upstream import FakeUpstream, Knobs
from bench.null_proxy import config
from bench.stream_client import StreamClient, workers_ai_text
from tests.bench.test_fake_upstream import serving


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def proxied() -> AsyncIterator[tuple[endpoints.Endpoint, endpoints.Endpoint]]:
    """The fake upstream and the proxy in front of it; yields (direct, through the proxy)."""
    async with serving(FakeUpstream(Knobs(chunks=5))) as upstream_port:
        port = _free_port()
        server = uvicorn.Server(config("127.0.0.1", port, f"http://127.0.0.1:{upstream_port}"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            direct = endpoints.direct(upstream_port)
            yield direct, dataclasses.replace(endpoints.direct(port), name="floor")
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _post(session: aiohttp.ClientSession, side: endpoints.Endpoint, body: bytes) -> tuple[int, str, bytes]:
    url = side.base_url + side.chat_path
    async with session.post(url, data=body, headers=dict(side.headers)) as r:
        return r.status, r.headers["content-type"], await r.read()


def test_answers_pass_through_byte_for_byte() -> None:
    async def main() -> None:
        async with proxied() as (direct, floor), aiohttp.ClientSession() as session:
            for body in (direct.stream_body, direct.chat_body):
                assert await _post(session, floor, body) == await _post(session, direct, body)
            status, content_type, raw = await _post(session, floor, direct.stream_body)
            assert status == 200 and content_type == "text/event-stream"
            assert raw.endswith(b"data: [DONE]\n\n") and raw.count(b'"response":"tok') == 5

    asyncio.run(main())


def test_errors_pass_through_and_the_timing_client_reads_it_like_the_upstream() -> None:
    async def main() -> None:
        async with proxied() as (direct, floor), aiohttp.ClientSession() as session:
            async with session.post(floor.base_url + floor.chat_path, data=direct.chat_body) as r:  # no token
                assert r.status == 401
                assert (await r.json())["errors"][0]["message"] == "Authentication error"
            async with StreamClient(timeout=10) as client:
                sample = await client.time(floor.stream_request())
            assert sample.ok and len(sample.content_times) == 5
            assert floor.text_of is workers_ai_text

    asyncio.run(main())

"""The fake upstream over real loopback HTTP, and the bench's own clients against it (no timing)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import orjson

from bench import endpoints
from bench.asgi_server import serve
from bench.drivers import run_asyncio
from bench.fake_upstream import CHAT_TEXT, EMBEDDING_DIM, IMAGE_BYTES, FakeUpstream, Knobs
from bench.stream_client import StreamClient, run_burst


@asynccontextmanager
async def serving(app: FakeUpstream) -> AsyncIterator[int]:
    """The fake upstream as the benchmark runs it: on bench/asgi_server.py, over loopback."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    started = asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, started=started))
    await started.wait()
    try:
        yield port
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run(
    test: Callable[[int, aiohttp.ClientSession, FakeUpstream], Awaitable[None]], knobs: Knobs | None = None
) -> None:
    async def main() -> None:
        app = FakeUpstream(knobs or Knobs(chunks=5))
        async with serving(app) as port, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await test(port, session, app)

    asyncio.run(main())


def test_chat_answers_the_workers_ai_envelope() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        async with session.post(
            direct.base_url + direct.chat_path, data=direct.chat_body, headers=dict(direct.headers)
        ) as r:
            assert r.status == 200
            body = orjson.loads(await r.read())
        assert body["success"] is True and body["errors"] == []
        assert body["result"]["response"] == CHAT_TEXT
        assert body["result"]["usage"]["total_tokens"] > 0

    run(check)


def test_stream_sends_the_configured_frames_then_usage_and_done() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        async with session.post(
            direct.base_url + direct.chat_path, data=direct.stream_body, headers=dict(direct.headers)
        ) as r:
            assert r.headers["content-type"] == "text/event-stream"
            frames = (await r.read()).split(b"\n\n")
        assert frames[0] == b'data: {"response":"tok0 ","p":"abc"}'
        assert len(frames) == 5 + 2 + 1  # content, usage, [DONE], and the empty tail after the last separator
        assert orjson.loads(frames[5][6:])["usage"]["completion_tokens"] == 5
        assert frames[6] == b"data: [DONE]"

    run(check)


def test_embeddings_answer_one_vector_per_text_and_refuse_over_100() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        url, headers = direct.base_url + direct.embed_path, dict(direct.headers)
        async with session.post(url, data=direct.embed_body(endpoints.embedding_inputs(3)), headers=headers) as r:
            result = orjson.loads(await r.read())["result"]
        assert result["shape"] == [3, EMBEDDING_DIM]
        assert len(result["data"]) == 3 and all(len(v) == EMBEDDING_DIM for v in result["data"])
        async with session.post(url, data=direct.embed_body(endpoints.embedding_inputs(101)), headers=headers) as r:
            assert r.status == 400
            assert orjson.loads(await r.read())["success"] is False

    run(check)


def test_m2m100_answers_a_recognisable_translation() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        url = direct.base_url + endpoints.run_path("@cf/meta/m2m100-1.2b")
        body = orjson.dumps({"text": "Hello", "source_lang": "en", "target_lang": "zh"})
        async with session.post(url, data=body, headers=dict(direct.headers)) as r:
            assert r.status == 200
            assert orjson.loads(await r.read())["result"] == {"translated_text": "[zh] Hello"}
        async with session.post(url, data=b'{"target_lang": "zh"}', headers=dict(direct.headers)) as r:
            assert r.status == 400

    run(check)


def test_missing_bearer_token_is_refused() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        async with session.post(direct.base_url + direct.chat_path, data=direct.chat_body) as r:
            assert r.status == 401

    run(check)


def test_knobs_change_at_run_time_and_stats_count_requests() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        base = f"http://127.0.0.1:{port}/__bench"
        async with session.post(base + "/config", json={"chunks": 2, "chunk_delay_ms": 1}) as r:
            assert await r.json() == {"latency_ms": 0.0, "chunks": 2, "chunk_delay_ms": 1}
        async with session.post(base + "/config", json={"nonsense": 1}) as r:
            assert r.status == 400
        async with StreamClient(timeout=10) as streams:
            sample = await streams.time(endpoints.direct(port).stream_request())
        assert sample.ok and len(sample.content_times) == 2 and len(sample.gaps) == 1
        async with session.get(base + "/stats") as r:
            assert await r.json() == {"requests": 1, "max_inflight": 1}

    run(check)


def test_burst_streams_are_all_open_at_once() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        async with StreamClient(timeout=10) as streams:
            samples = await run_burst(streams, endpoints.direct(port).stream_request(), count=20)
        assert all(sample.ok for sample in samples)
        assert app.max_inflight == 20

    run(check, Knobs(chunks=3, chunk_delay_ms=20))


def test_builtin_driver_completes_requests_without_errors() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        chat = await run_asyncio(direct.chat(), connections=4, duration=0.2)
        stream = await run_asyncio(direct.stream(), connections=2, duration=0.2)
        for result in (chat, stream):
            assert result.requests > 0 and result.errors == 0 and result.driver == "asyncio"
        assert app.requests == chat.requests + stream.requests

    run(check)


def test_image_models_answer_raw_png_bytes_of_a_real_size() -> None:
    async def check(port: int, session: aiohttp.ClientSession, app: FakeUpstream) -> None:
        direct = endpoints.direct(port)
        path = endpoints.run_path("@cf/stabilityai/stable-diffusion-xl-base-1.0")
        async with session.post(direct.base_url + path, data=b'{"prompt":"x"}', headers=dict(direct.headers)) as r:
            assert r.status == 200 and r.headers["content-type"] == "image/png"
            body = await r.read()
        assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) == IMAGE_BYTES

    run(check)

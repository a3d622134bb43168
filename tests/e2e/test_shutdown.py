"""Graceful shutdown: SIGTERM lets open streams finish (bounded by SHUTDOWN_TIMEOUT) and refuses new
connections; the process exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import signal
import socket
import subprocess
import time
from urllib.parse import urlsplit

import openai

from tests.conftest import TEST_KEY
from tests.servers import Emulator, gateway_process, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
SLOW_MODEL = "@cf/meta/llama-3.2-1b-instruct"  # a whole answer that takes 1.5 s upstream
STREAMS = 50


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def _wait_refused(port: int, within: float) -> float:
    """Seconds until a new connection to `port` is refused."""
    started = time.monotonic()
    while not _refused(port):
        assert time.monotonic() - started < within, "the gateway still accepts connections after SIGTERM"
        time.sleep(0.02)
    return time.monotonic() - started


async def _one_stream(client: openai.AsyncOpenAI, words: str, first: asyncio.Queue[None]) -> list[str]:
    """The data lines of one streamed chat answer, raw (so [DONE] is seen); `first` hears of its first line."""
    lines: list[str] = []
    async with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=[{"role": "user", "content": f"Repeat after me: {words}"}], stream=True
    ) as response:
        async for line in response.iter_lines():
            if line.startswith("data: "):
                if not lines:
                    first.put_nowait(None)
                lines.append(line.removeprefix("data: "))
    return lines


async def _streams_through_sigterm(
    url: str, process: subprocess.Popen[bytes], upstream: Emulator
) -> tuple[list[list[str]], str | None, float]:
    """The 50 streams' data lines and a whole answer's text, all in flight when SIGTERM came."""
    words = " ".join(f"w{i}" for i in range(20))
    first: asyncio.Queue[None] = asyncio.Queue()
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0, timeout=30) as client:
        tasks = [asyncio.create_task(_one_stream(client, words, first)) for _ in range(STREAMS)]
        whole = asyncio.create_task(
            client.chat.completions.create(
                model=SLOW_MODEL, messages=[{"role": "user", "content": "Repeat after me: whole"}]
            )
        )
        for _ in range(STREAMS):  # every stream is open and has sent its first event
            await asyncio.wait_for(first.get(), 20)
        while not any(SLOW_MODEL in r["path"] for r in await asyncio.to_thread(upstream.requests)):
            await asyncio.sleep(0.02)  # the whole answer is being made upstream
        process.send_signal(signal.SIGTERM)
        refused_after = await asyncio.to_thread(_wait_refused, urlsplit(url).port or 0, 2.0)
        assert not all(task.done() for task in tasks), "the streams were over before the test could look"
        assert not whole.done(), "the whole answer was over before the test could look"
        return list(await asyncio.gather(*tasks)), (await whole).choices[0].message.content, refused_after


def test_sigterm_lets_50_open_streams_finish_and_refuses_new_connections(upstream: Emulator) -> None:
    upstream.fault(model=MODEL, chunk_delay_ms=100, times=STREAMS)  # 20 words at 100 ms: each stream about 2 s
    upstream.fault(model=SLOW_MODEL, latency_ms=1500, times=1)
    with gateway_process(managed_env(upstream.api_base, SHUTDOWN_TIMEOUT="20")) as (url, process, _):
        signalled = time.monotonic()
        results, whole, refused_after = asyncio.run(_streams_through_sigterm(url, process, upstream))
        exit_code = process.wait(20)
        stopped_in = time.monotonic() - signalled
    assert refused_after < 1.0
    assert whole == "whole"  # the request in flight was answered, not cut
    expected = " ".join(f"w{i}" for i in range(20))
    for lines in results:
        assert lines[-1] == "[DONE]"
        chunks = [json.loads(line) for line in lines[:-1]]
        content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        assert content == expected
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert exit_code == 0
    assert stopped_in < 20


def _stream_through_sigterm(url: str, words: str, process: subprocess.Popen[bytes]) -> tuple[bytes, float]:
    """What a streamed answer sent before and after SIGTERM, and how long after SIGTERM it was cut."""
    parts = urlsplit(url)
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": f"Repeat after me: {words}"}]}
    with contextlib.closing(http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)) as connection:
        headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
        connection.request("POST", "/v1/chat/completions", json.dumps(body), headers)
        response = connection.getresponse()
        received = response.read1(65536)
        assert received.startswith(b"data: ")
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            while chunk := response.read1(65536):
                received += chunk
        except (http.client.IncompleteRead, ConnectionError):
            pass  # cut mid-body: what a client sees of a stream that was not allowed to finish
        return received, time.monotonic() - signalled


def test_shutdown_timeout_cuts_a_stream_that_runs_too_long(upstream: Emulator) -> None:
    # for the stream only, not the start-up credential check (a models/search call)
    upstream.fault(model=MODEL, chunk_delay_ms=250)  # 40 words at 250 ms: 10 s, far past the 1 s allowed
    words = " ".join(f"w{i}" for i in range(40))
    with gateway_process(managed_env(upstream.api_base, SHUTDOWN_TIMEOUT="1")) as (url, process, log):
        received, cut_after = _stream_through_sigterm(url, words, process)
        waiting = time.monotonic()
        exit_code = process.wait(10)
        stopped_in = cut_after + time.monotonic() - waiting
    assert b"[DONE]" not in received and b'"content":"w0' in received
    assert 0.9 < cut_after < 4
    assert exit_code == 0 and stopped_in < 5
    assert "timeout graceful shutdown exceeded" in log.read_text()

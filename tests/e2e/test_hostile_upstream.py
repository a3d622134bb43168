"""The gateway process against upstreams that misbehave (issue 14, rows 7-9): a `br` stream, a full pool,
a stream of empty events. What a client notices: statuses, the in-band error, the process stopping."""

from __future__ import annotations

import asyncio
import http.client
import signal
import threading
import time
from urllib.parse import urlsplit

import orjson

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator, free_port, gateway, gateway_process, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
AUTH = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
WHOLE = orjson.dumps({"success": True, "result": {"response": "fine"}})


class FakeUpstream:
    """Workers AI as a hostile one would be, on a loopback port in a thread: streams answered with
    `Content-Encoding: br` (which the gateway never asked for), everything else a plain result."""

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.requests = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        async def main() -> None:
            self.stopping = asyncio.Event()
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            ready.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) if b"ength: " in head else 0
                body = await reader.readexactly(length)
                self.requests += 1
                if b'"stream":true' in body:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: br\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n5\r\n\x1b\x00\x00\x00\x00\r\n"
                    )
                    await writer.drain()
                    await self.stopping.wait()  # never ends: a leaked connection would stay held
                    return
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                writer.write(head % len(WHOLE) + WHOLE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        async def finish() -> None:
            self.stopping.set()
            self.server.close()
            await self.server.wait_closed()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)

        asyncio.run_coroutine_threadsafe(finish(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def chat(url: str, *, stream: bool, timeout: float = 20) -> tuple[int, bytes]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    answer = call("POST", f"{url}/v1/chat/completions", body, AUTH, timeout=timeout)
    return answer.status, answer.body


def test_br_streams_then_a_plain_request_on_a_pool_of_two_and_sigterm_stops_the_process() -> None:
    fake = FakeUpstream()
    env = managed_env(f"http://127.0.0.1:{fake.port}/client/v4", UPSTREAM_MAX_CONNECTIONS="2", UPSTREAM_TIMEOUT="10")
    try:
        with gateway_process(env) as (url, process, _):
            for _ in range(2):
                status, body = chat(url, stream=True)
                assert status == 502
                assert orjson.loads(body)["error"]["code"] == "upstream_bad_response"
                assert b"Content-Encoding 'br'" in body
            status, body = chat(url, stream=False, timeout=8)
            assert status == 200, body
            assert orjson.loads(body)["choices"][0]["message"]["content"] == "fine"
            process.send_signal(signal.SIGTERM)
            assert process.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    finally:
        fake.stop()


def test_a_stream_of_empty_events_ends_in_band_within_the_read_timeout(upstream: Emulator) -> None:
    env = managed_env(upstream.api_base, UPSTREAM_READ_TIMEOUT="3")  # as in the issue
    with gateway(env) as (url, _):
        for _ in range(3):  # timing-dependent: several runs every time the suite runs
            empty_events_end_in_band(url, upstream)

        # A slow stream that keeps making progress is not cut: 100 ms between tokens, 3 s read timeout.
        upstream.fault(chunk_delay_ms=100)
        status, body = chat(url, stream=True, timeout=30)
        assert status == 200 and body.endswith(b"data: [DONE]\n\n") and b'"error"' not in body


def empty_events_end_in_band(url: str, upstream: Emulator) -> None:
    """One stream of 20 s of empty events through a gateway whose UPSTREAM_READ_TIMEOUT is 3."""
    upstream.fault(empty_events_ms=20_000)  # 20 s of `{"response": ""}` events, bytes all the while
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    started = time.monotonic()
    connection.request("POST", "/v1/chat/completions", orjson.dumps(request), AUTH)
    response = connection.getresponse()
    first = response.read1(65536)
    head_after = time.monotonic() - started
    body = first + response.read()
    took = time.monotonic() - started
    connection.close()
    assert response.status == 200
    assert b'"role":"assistant"' in first  # the head and the role chunk, while only empty events arrive
    assert head_after < 3.0, head_after  # within the read timeout (1 s on an idle machine)
    events = [line[len(b"data: ") :] for line in body.split(b"\n\n") if line.startswith(b"data: ")]
    assert events[-1] == b"[DONE]"
    error = orjson.loads(events[-2])["error"]
    assert error["code"] == "upstream_timeout" and "no content for 3 s" in error["message"]
    assert 2.9 < took < 14, took  # 3-3.75 s on an idle machine; never the 20 s of empty events

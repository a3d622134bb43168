"""Process-level behaviour: client disconnects, demo mode as the README starts it."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import openai

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator, gateway


def _open_stream(gateway_url: str) -> http.client.HTTPConnection:
    """Starts a long streamed answer (60 events) and returns the connection, the response not yet read."""
    words = " ".join(f"w{i}" for i in range(60))
    body = {
        "model": "@cf/meta/llama-3.1-8b-instruct-fast",
        "stream": True,
        "messages": [{"role": "user", "content": f"Repeat after me: {words}"}],
    }
    parts = urlsplit(gateway_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(
        "POST",
        "/v1/chat/completions",
        json.dumps(body),
        {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"},
    )
    return connection


def _wait_for_upstream_disconnect(upstream: Emulator, before: dict[str, int], within: float) -> None:
    started = time.monotonic()
    while upstream.streams()["disconnected"] == before["disconnected"]:
        assert time.monotonic() - started < within, "the gateway kept reading from Workers AI after the client left"
        time.sleep(0.05)
    assert upstream.streams()["completed"] == before["completed"]


def test_client_disconnect_closes_the_upstream_stream(gateway_url: str, upstream: Emulator) -> None:
    before = upstream.streams()
    upstream.fault(chunk_delay_ms=100)  # 60 events at 100 ms: about 6 s if nobody hangs up
    connection = _open_stream(gateway_url)
    response = connection.getresponse()
    assert response.status == 200
    assert response.read1(1024).startswith(b"data: ")  # the stream has started
    connection.close()  # the client goes away mid-stream
    _wait_for_upstream_disconnect(upstream, before, within=4)


def test_client_gone_before_the_first_token_is_noticed_at_the_first_token(gateway_url: str, upstream: Emulator) -> None:
    before = upstream.streams()
    upstream.fault(latency_ms=500, chunk_delay_ms=100)  # half a second of silence, then about 6 s of events
    connection = _open_stream(gateway_url)
    connection.close()  # gone before Workers AI said anything
    _wait_for_upstream_disconnect(upstream, before, within=3)


def test_demo_mode_serves_from_the_built_in_emulator() -> None:
    with gateway({}) as (url, log):
        assert "DEMO MODE" in log.read_text()
        assert call("GET", f"{url}/health").json()["mode"] == "demo"
        listing = call("GET", f"{url}/v1/models").json()
        assert "DEMO MODE" in listing["notice"]
        with openai.OpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0) as client:
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Repeat after me: demo works"}],
                stream=True,
            )
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "demo works"

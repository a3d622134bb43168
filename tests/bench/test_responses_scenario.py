"""The Responses scenario's premise, against a real gateway and the fake upstream: with the long streams
its per-chunk figure comes from, both sides deliver every chunk (none cut by a token limit), so the two
per-chunk figures it compares count the same work."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.context import Plan
from bench.endpoints import GATEWAY_KEY, UPSTREAM_TOKEN
from bench.endpoints import gateway as gateway_endpoint
from bench.responses import responses_endpoint
from tests.http import call
from tests.servers import free_port, gateway_process, running

ROOT = Path(__file__).resolve().parents[2]


def test_long_streams_arrive_whole_through_chat_and_responses() -> None:
    chunks = Plan().long_chunks
    port = free_port()
    args = [sys.executable, "-m", "bench.fake_upstream", "--port", str(port)]
    with running(args, f"http://127.0.0.1:{port}/__bench/health", {"PYTHONPATH": str(ROOT)}):
        assert call("POST", f"http://127.0.0.1:{port}/__bench/config", {"chunks": chunks}).status == 200
        env = {
            "CF_API_BASE": f"http://127.0.0.1:{port}/client/v4",
            "CF_ACCOUNT_ID": "bench",
            "CF_API_TOKEN": UPSTREAM_TOKEN,
            "GATEWAY_API_KEYS": GATEWAY_KEY,
        }
        with gateway_process(env) as (url, _, _):
            chat = gateway_endpoint(int(url.rsplit(":", 1)[1]))
            headers = {"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json"}
            streamed = call("POST", url + chat.chat_path, chat.stream_body, headers)
            responses = responses_endpoint(chat)
            events = call("POST", url + responses.chat_path, responses.stream_body, headers)
    assert streamed.status == 200 and events.status == 200
    assert streamed.body.count(b'"content":"tok') == chunks and streamed.body.endswith(b"data: [DONE]\n\n")
    assert events.body.count(b"event: response.output_text.delta\n") == chunks
    assert b'"status":"completed"' in events.body.rsplit(b"event: ", 1)[1]

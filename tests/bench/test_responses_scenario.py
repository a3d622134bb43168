"""The Responses scenario's premise, against a real gateway and the fake upstream: with the long streams
its per-chunk figure comes from, both sides deliver every chunk (none cut by a token limit), so the two
per-chunk figures it compares count the same work."""

from __future__ import annotations

from bench.context import Plan
from bench.endpoints import GATEWAY_KEY
from bench.endpoints import gateway as gateway_endpoint
from bench.responses import responses_endpoint
from tests.bench.fake import gateway_on_fake_upstream
from tests.http import call


def test_long_streams_arrive_whole_through_chat_and_responses() -> None:
    chunks = Plan().long_chunks
    with gateway_on_fake_upstream() as (upstream, url, _):
        assert call("POST", f"{upstream}/__bench/config", {"chunks": chunks}).status == 200
        chat = gateway_endpoint(int(url.rsplit(":", 1)[1]))
        headers = {"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json"}
        streamed = call("POST", url + chat.chat_path, chat.stream_body, headers)
        responses = responses_endpoint(chat)
        events = call("POST", url + responses.chat_path, responses.stream_body, headers)
    assert streamed.status == 200 and events.status == 200
    assert streamed.body.count(b'"content":"tok') == chunks and streamed.body.endswith(b"data: [DONE]\n\n")
    assert events.body.count(b"event: response.output_text.delta\n") == chunks
    assert b'"status":"completed"' in events.body.rsplit(b"event: ", 1)[1]

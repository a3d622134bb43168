"""SSE framing on /ai/run: native token events, OpenAI-shaped chunks, tool calls in a stream."""

from __future__ import annotations

import re

import orjson

from tests.emulator.conftest import Emulator
from tests.emulator.test_text import WEATHER_TOOL, user

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"


def test_native_stream_framing(emu: Emulator) -> None:
    reply = emu.run(LLAMA, {**user("Repeat after me: one two three"), "stream": True})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = reply.events()
    assert events[-1] == "[DONE]"
    decoded = [orjson.loads(event) for event in events[:-1]]
    tokens, empty, final = decoded[:-2], decoded[-2], decoded[-1]
    assert [event["response"] for event in tokens] == ["one", " two", " three"]
    for event in tokens:
        assert re.fullmatch(r"[a-z0-9]+", event["p"])
    assert empty == {"response": ""}
    assert final == {"response": "", "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}


def test_reasoning_stream_carries_closing_think_in_a_token(emu: Emulator) -> None:
    reply = emu.run("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", {**user("Repeat after me: ok"), "stream": True})
    tokens = [orjson.loads(event).get("response", "") for event in reply.events()[:-1]]
    text = "".join(tokens)
    assert "\n</think>" in tokens
    assert text.endswith("</think>\n\nok") and "<think>" not in text


def test_native_stream_tool_call_is_one_event(emu: Emulator) -> None:
    reply = emu.run("@cf/meta/llama-3.3-70b-instruct-fp8-fast", {**user("w"), "tools": [WEATHER_TOOL], "stream": True})
    events = reply.events()
    assert len(events) == 3 and events[-1] == "[DONE]"
    call = orjson.loads(events[0])
    assert call == {
        "response": "",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "sample", "days": 1, "unit": "celsius"}}],
    }
    assert "usage" in orjson.loads(events[1])


def test_openai_shaped_stream_has_incremental_then_cumulative_usage(emu: Emulator) -> None:
    reply = emu.run("@cf/qwen/qwen3-30b-a3b-fp8", {**user("Repeat after me: a b c"), "stream": True})
    events = reply.events()
    assert events[-1] == "[DONE]"
    decoded = [orjson.loads(event) for event in events[:-1]]
    chunks, final = decoded[:-1], decoded[-1]
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["p"] for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == []
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content") or "" for c in chunks if c["choices"])
    assert content == "a b c" and reasoning
    assert set(final) == {"response", "usage"} and final["response"] == ""
    increments = sum(chunk["usage"]["completion_tokens"] for chunk in chunks)
    assert final["usage"]["completion_tokens"] == increments
    assert final["usage"]["prompt_tokens"] == chunks[0]["usage"]["prompt_tokens"] == 9


def test_events_are_flushed_one_by_one(emu: Emulator) -> None:
    emu.fault(model=LLAMA, chunk_delay_ms=150)
    connection = emu.connect()
    try:
        body = orjson.dumps({**user("Repeat after me: a b c d"), "stream": True})
        connection.request("POST", f"/client/v4/accounts/x/ai/run/{LLAMA}", body=body)
        response = connection.getresponse()
        first = response.read1()
        assert first.startswith(b'data: {"response":"a"')
        assert b"[DONE]" not in first, "the first event arrives before the rest is produced"
        rest = response.read()
        assert rest.endswith(b"data: [DONE]\n\n")
    finally:
        connection.close()

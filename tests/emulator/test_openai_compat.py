"""The OpenAI-compatible /ai/v1 endpoints: raw OpenAI objects, OpenAI streaming."""

from __future__ import annotations

import base64
import struct

import orjson

from tests.emulator.conftest import Emulator
from tests.emulator.test_text import WEATHER_TOOL

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"


def chat(**body: object) -> dict[str, object]:
    return {"model": LLAMA, "messages": [{"role": "user", "content": "Repeat after me: hi there"}], **body}


def test_chat_completion_is_a_raw_openai_object(emu: Emulator) -> None:
    body = emu.ai("POST", "v1/chat/completions", json=chat(max_completion_tokens=1)).json()
    assert "result" not in body and body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "hi"}
    assert choice["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9}


def test_chat_completion_tool_call(emu: Emulator) -> None:
    body = emu.ai("POST", "v1/chat/completions", json=chat(tools=[WEATHER_TOOL])).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and orjson.loads(call["function"]["arguments"])["city"] == "sample"


def test_chat_completion_stream_ends_with_usage_and_done(emu: Emulator) -> None:
    reply = emu.ai("POST", "v1/chat/completions", json=chat(stream=True, stream_options={"include_usage": True}))
    events = reply.events()
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert all("p" not in chunk for chunk in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "hi there"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 2
    without = emu.ai("POST", "v1/chat/completions", json=chat(stream=True)).events()
    assert all("usage" not in orjson.loads(event) for event in without[:-1])


def test_chat_completion_errors_use_the_envelope(emu: Emulator) -> None:
    unknown = emu.ai("POST", "v1/chat/completions", json={**chat(), "model": "@cf/none/such"})
    assert unknown.status == 400 and unknown.json()["errors"][0]["code"] == 5007
    null = emu.ai("POST", "v1/chat/completions", json={"model": LLAMA, "messages": [{"role": "user", "content": None}]})
    assert null.status == 400 and null.json()["errors"][0]["code"] == 5006


def test_embeddings_float_and_base64(emu: Emulator) -> None:
    request = {"model": "@cf/baai/bge-base-en-v1.5", "input": ["a", "b c"]}
    body = emu.ai("POST", "v1/embeddings", json=request).json()
    assert body["object"] == "list" and body["model"] == "@cf/baai/bge-base-en-v1.5"
    assert [item["index"] for item in body["data"]] == [0, 1] and len(body["data"][0]["embedding"]) == 768
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    packed = emu.ai("POST", "v1/embeddings", json={**request, "encoding_format": "base64"}).json()
    decoded = struct.unpack("<768f", base64.b64decode(packed["data"][0]["embedding"]))
    assert all(abs(x - y) < 1e-6 for x, y in zip(decoded, body["data"][0]["embedding"], strict=True))
    wrong_task = emu.ai("POST", "v1/embeddings", json={"model": LLAMA, "input": "x"})
    assert wrong_task.json()["errors"][0]["code"] == 5007

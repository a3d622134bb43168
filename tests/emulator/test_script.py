"""Scripted replies (/__emulator/script): a queued tool call, then a text, in every shape text models answer in."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.emulator.conftest import Emulator
from tests.emulator.test_text import WEATHER_TOOL, user

LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # native, legacy {name, arguments} tool calls
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"  # native, {id, type, function} tool calls
QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"  # OpenAI-shaped, streams
GPT_OSS = "@cf/openai/gpt-oss-120b"  # OpenAI-shaped, never streams on /ai/run, takes Responses input
READ_CALL = {"name": "read_file", "arguments": {"path": "notes.txt"}}
READ = {"tool_calls": [READ_CALL]}
ASKED = {**user("fix notes.txt"), "tools": [WEATHER_TOOL]}


def _events(emu: Emulator, model: str, body: dict[str, Any]) -> list[Any]:
    reply = emu.run(model, {**body, "stream": True})
    assert reply.headers["content-type"] == "text/event-stream"
    events = reply.events()
    assert events[-1] == "[DONE]"
    return [orjson.loads(event) for event in events[:-1]]


def test_native_model_answers_the_scripted_call_then_the_scripted_text(emu: Emulator) -> None:
    emu.script(READ, {"text": "Fixed it."})
    first = emu.run(LLAMA_70B, ASKED).json()["result"]
    assert first["response"] is None and first["tool_calls"] == [READ_CALL]  # not the weather tool the request offers
    second = emu.run(LLAMA_70B, ASKED).json()["result"]
    assert second["response"] == "Fixed it." and second["tool_calls"] == []
    third = emu.run(LLAMA_70B, user("hi")).json()["result"]  # the queue is empty: the usual answer again
    assert third["response"].startswith("Hello from the Workers AI emulator")
    assert emu.request("GET", "/__emulator/script").json() == {"pending": [], "served": 2}


def test_native_stream_carries_text_then_tool_calls(emu: Emulator) -> None:
    emu.script({"text": "Let me look.", **READ})
    events = _events(emu, SCOUT, ASKED)
    text = "".join(event["response"] for event in events)
    assert text == "Let me look."
    (call,) = next(event["tool_calls"] for event in events if event.get("tool_calls"))
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call["id"])  # scout's tool_call_id pattern holds for the reply
    assert call["function"] == {"name": "read_file", "arguments": {"path": "notes.txt"}}
    assert events[-1]["usage"]["completion_tokens"] > 0


def test_openai_shaped_model_whole_and_streamed(emu: Emulator) -> None:
    emu.script(READ, {"text": "All done.", "reasoning": "The file is fixed."})
    choice = emu.run(QWEN3, ASKED).json()["result"]["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path":"notes.txt"}'}
    events = _events(emu, QWEN3, ASKED)
    deltas = [event["choices"][0]["delta"] for event in events if event.get("choices")]
    assert "".join(delta.get("content") or "" for delta in deltas) == "All done."
    assert "".join(delta.get("reasoning_content") or "" for delta in deltas) == "The file is fixed."


def test_openai_compatible_endpoint_takes_the_script_too(emu: Emulator) -> None:
    emu.script(READ)
    reply = emu.ai("POST", "v1/chat/completions", json={"model": GPT_OSS, **ASKED})
    message = reply.json()["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["name"] == "read_file"


def test_responses_input_gets_function_call_items(emu: Emulator) -> None:
    emu.script(READ)
    result = emu.run(GPT_OSS, {"input": "fix notes.txt"}).json()["result"]
    (call,) = [item for item in result["output"] if item["type"] == "function_call"]
    assert call["name"] == "read_file" and orjson.loads(call["arguments"]) == {"path": "notes.txt"}
    assert call["call_id"].startswith("call_")


def test_a_reply_waits_for_the_model_and_tool_it_names(emu: Emulator) -> None:
    emu.script({"model": QWEN3, "with_tool": "get_weather", "text": "scripted"})
    assert emu.run(LLAMA_70B, ASKED).json()["result"]["response"] is None  # another model: the usual tool call
    side_call = emu.run(QWEN3, user("title for this chat")).json()["result"]  # offers no tool: not this reply
    assert side_call["choices"][0]["message"]["content"].startswith("Hello from")
    assert emu.run(QWEN3, ASKED).json()["result"]["choices"][0]["message"]["content"] == "scripted"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "a reply needs `text` or `tool_calls`"),
        ({"text": "x", "mood": "happy"}, "unknown reply fields: mood"),
        ({"tool_calls": [{"arguments": {}}]}, "each tool call needs a `name`"),
        ({"tool_calls": [{"name": "x", "arguments": "{}"}]}, "a tool call's `arguments` must be an object"),
        ({"text": 3}, "text must be a string"),
        ([], "no replies given"),
    ],
)
def test_a_bad_script_is_refused_and_queues_nothing(emu: Emulator, body: Any, error: str) -> None:
    reply = emu.request("POST", "/__emulator/script", json=body)
    assert reply.status == 400 and reply.json() == {"error": error}
    assert emu.request("GET", "/__emulator/script").json()["pending"] == []

"""A scripted multi-step tool session through the gateway: the emulator answers a tool call, then a text."""

from __future__ import annotations

import json

import openai
import pytest

from tests.servers import Emulator

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]


@pytest.mark.parametrize("model", ["@cf/qwen/qwen3-30b-a3b-fp8", "@cf/meta/llama-4-scout-17b-16e-instruct"])
def test_streamed_tool_call_result_and_answer(client: openai.OpenAI, upstream: Emulator, model: str) -> None:
    upstream.script(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"text": "The file says hello."},
    )
    messages: list[dict[str, object]] = [{"role": "user", "content": "What is in notes.txt?"}]
    stream = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or ()]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    (call,) = calls
    assert call.function and call.function.name == "read_file" and call.id
    assert json.loads(call.function.arguments or "") == {"path": "notes.txt"}
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude={"index"})]},
        {"role": "tool", "tool_call_id": call.id, "content": "hello"},
    ]
    answer = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "The file says hello."
    sent = upstream.last_run()["messages"]
    assert sent[-1]["role"] == "tool" and sent[-1]["content"] == "hello"  # the result reached the model
    assert upstream.script_state() == {"pending": [], "served": 2}

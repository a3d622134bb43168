"""Text generation on /ai/run: native and OpenAI-shaped outputs, tools, JSON mode, validation."""

from __future__ import annotations

import re
from typing import Any

from tests.emulator.conftest import Emulator

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
UUID_SUFFIX = re.compile(r"\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "verbose": {"type": "boolean"},
            },
            "required": ["city", "days", "unit"],
        },
    },
}


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_native_reply_is_enveloped_with_usage(emu: Emulator) -> None:
    reply = emu.run(LLAMA, {"messages": [{"role": "system", "content": "Be brief"}, *user("Hi there")["messages"]]})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert list(body) == ["result", "success", "errors", "messages"]
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    result = body["result"]
    assert result["response"] == f"Hello from the Workers AI emulator ({LLAMA}). You said: Hi there"
    assert result["tool_calls"] == []
    # 2 + 2 words plus 3 tokens of overhead per message; the reply has 11 words.
    assert result["usage"] == {"prompt_tokens": 10, "completion_tokens": 11, "total_tokens": 21}


def test_repeat_after_me_and_max_tokens_truncation(emu: Emulator) -> None:
    full = emu.run(LLAMA, user("Repeat after me:  one two three four  ")).json()["result"]
    assert full["response"] == "one two three four"
    cut = emu.run(LLAMA, {**user("Repeat after me: one two three four"), "max_tokens": 2}).json()["result"]
    assert cut["response"] == "one two"
    assert cut["usage"]["completion_tokens"] == 2


def test_prompt_form_has_no_tool_calls_key(emu: Emulator) -> None:
    result = emu.run(LLAMA, {"prompt": "Repeat after me: hi"}).json()["result"]
    assert result == {"response": "hi", "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}}


def test_deepseek_reasoning_lacks_opening_think(emu: Emulator) -> None:
    result = emu.run("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", user("Repeat after me: 42")).json()["result"]
    assert "<think>" not in result["response"]
    reasoning, answer = result["response"].split("\n</think>\n\n")
    assert reasoning and answer == "42"


def test_qwq_reasoning_has_both_think_tags(emu: Emulator) -> None:
    result = emu.run("@cf/qwen/qwq-32b", user("Repeat after me: 42")).json()["result"]
    assert result["response"].startswith("<think>\n")
    assert result["response"].endswith("\n</think>\n\n42")


def test_openai_shaped_model_returns_chat_completion_in_envelope(emu: Emulator) -> None:
    body = emu.run("@cf/qwen/qwen3-30b-a3b-fp8", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Repeat after me: yes"}
    ]}]}).json()  # fmt: skip
    assert body["success"] is True
    completion = body["result"]
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "@cf/qwen/qwen3-30b-a3b-fp8"
    choice = completion["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "yes"
    assert choice["message"]["reasoning_content"]
    assert choice["finish_reason"] == "stop"
    usage = completion["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert isinstance(usage["neurons"], float) and usage["neurons"] > 0


def test_gemma4_reasoning_field_and_thinking_switch(emu: Emulator) -> None:
    model = "@cf/google/gemma-4-26b-a4b-it"
    message = emu.run(model, user("hi")).json()["result"]["choices"][0]["message"]
    assert message["reasoning"] and "reasoning_content" not in message
    off = {**user("hi"), "chat_template_kwargs": {"enable_thinking": False}}
    assert "reasoning" not in emu.run(model, off).json()["result"]["choices"][0]["message"]


def test_openai_shaped_prompt_form_is_text_completion(emu: Emulator) -> None:
    result = emu.run("@cf/openai/gpt-oss-20b", {"prompt": "Repeat after me: ok"}).json()["result"]
    assert result["object"] == "text_completion"
    assert result["choices"][0]["text"] == "ok"


def test_gpt_oss_ignores_stream_true(emu: Emulator) -> None:
    reply = emu.run("@cf/openai/gpt-oss-120b", {**user("hi"), "stream": True})
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["result"]["object"] == "chat.completion"


def test_native_tool_call_has_null_response_and_object_arguments(emu: Emulator) -> None:
    result = emu.run("@cf/meta/llama-3.3-70b-instruct-fp8-fast", {**user("weather?"), "tools": [WEATHER_TOOL]})
    body = result.json()["result"]
    assert body["response"] is None
    assert body["tool_calls"] == [
        {"name": "get_weather", "arguments": {"city": "sample", "days": 1, "unit": "celsius"}}
    ]


def test_tool_choice_picks_named_legacy_tool(emu: Emulator) -> None:
    tools = [
        {
            "name": "first",
            "description": "a",
            "parameters": {"type": "object", "properties": {"x": {"type": "number"}}},
        },
        {
            "name": "second",
            "description": "b",
            "parameters": {"type": "object", "properties": {"y": {"type": "array"}}},
        },
    ]
    choice = {"type": "function", "function": {"name": "second"}}
    calls = emu.run(LLAMA, {**user("go"), "tools": tools, "tool_choice": choice}).json()["result"]["tool_calls"]
    assert calls == [{"name": "second", "arguments": {"y": []}}]


def test_scout_tool_calls_carry_id_and_function(emu: Emulator) -> None:
    calls = emu.run("@cf/meta/llama-4-scout-17b-16e-instruct", {**user("w"), "tools": [WEATHER_TOOL]}).json()
    (call,) = calls["result"]["tool_calls"]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call["id"])
    assert call["type"] == "function"
    assert call["function"]["arguments"] == {"city": "sample", "days": 1, "unit": "celsius"}


def test_tool_result_message_is_echoed(emu: Emulator) -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {}}]},
        {"role": "tool", "content": "sunny, 21C", "tool_call_id": "abc123def"},
    ]
    body = emu.run("@cf/mistralai/mistral-small-3.1-24b-instruct", {"messages": messages, "tools": [WEATHER_TOOL]})
    assert body.json()["result"]["response"] == "The tool returned: sunny, 21C"


def test_openai_shaped_tool_call_arguments_are_a_json_string(emu: Emulator) -> None:
    result = emu.run("@cf/qwen/qwen3-30b-a3b-fp8", {**user("w"), "tools": [WEATHER_TOOL]}).json()["result"]
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    function = choice["message"]["tool_calls"][0]["function"]
    assert function == {"name": "get_weather", "arguments": '{"city":"sample","days":1,"unit":"celsius"}'}


def test_json_mode_returns_objects(emu: Emulator) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "ok": {"type": "boolean"}}}
    fmt = {"type": "json_schema", "json_schema": schema}
    result = emu.run(LLAMA, {**user("x"), "response_format": fmt, "stream": True})
    assert result.headers["content-type"] == "application/json", "JSON mode does not stream"
    assert result.json()["result"]["response"] == {"name": "sample", "ok": True}
    plain = emu.run(LLAMA, {**user("Repeat after me: hi"), "response_format": {"type": "json_object"}})
    assert plain.json()["result"]["response"] == {"response": "hi"}


def _error(reply: Any, status: int, code: int) -> str:
    assert reply.status == status, reply.body
    body = reply.json()
    assert list(body) == ["errors", "success", "result", "messages"]
    assert body["success"] is False and body["result"] == {} and body["messages"] == []
    assert body["errors"][0]["code"] == code
    message: str = body["errors"][0]["message"]
    return message


def test_array_content_on_string_only_model_is_5006(emu: Emulator) -> None:
    message = _error(
        emu.run(LLAMA, {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}), 400, 5006
    )
    assert message.startswith("AiError: Bad input: Error: oneOf at '/' not met")
    assert "Type mismatch of '/messages/0/content', 'array' not in 'string'" in message


def test_null_content_is_5006(emu: Emulator) -> None:
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": None}]
    message = _error(emu.run(LLAMA, {"messages": messages}), 400, 5006)
    assert "'/messages/1/content', 'null' not in 'string'" in message


def test_http_image_url_is_rejected_but_data_uri_accepted(emu: Emulator) -> None:
    def content(url: str) -> dict[str, Any]:
        parts = [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": url}}]
        return {"messages": [{"role": "user", "content": parts}]}

    model = "@cf/meta/llama-4-scout-17b-16e-instruct"
    assert "HTTP URL will not be accepted" in _error(emu.run(model, content("https://x/y.png")), 400, 5006)
    assert emu.run(model, content("data:image/png;base64,iVBORw0KGgo=")).status == 200


def test_mistral_tool_call_id_pattern(emu: Emulator) -> None:
    messages = [{"role": "user", "content": "x"}, {"role": "tool", "content": "r", "tool_call_id": "call_1"}]
    message = _error(emu.run("@cf/mistralai/mistral-small-3.1-24b-instruct", {"messages": messages}), 400, 5006)
    assert "tool_call_id" in message


def test_parameter_ranges(emu: Emulator) -> None:
    assert "temperature" in _error(emu.run(LLAMA, {**user("x"), "temperature": 6}), 400, 5006)
    assert "max_tokens" in _error(emu.run(LLAMA, {**user("x"), "max_tokens": 0}), 400, 5006)
    assert "frequency_penalty" in _error(
        emu.run("@cf/mistralai/mistral-small-3.1-24b-instruct", {**user("x"), "frequency_penalty": -1}), 400, 5006
    )
    assert emu.run(LLAMA, {**user("x"), "frequency_penalty": -1, "stop": ["x"], "n": 3}).status == 200


def test_missing_prompt_and_messages(emu: Emulator) -> None:
    assert "'messages'" in _error(emu.run(LLAMA, {"max_tokens": 5}), 400, 5006)
    assert "minLength" in _error(emu.run(LLAMA, {"prompt": ""}), 400, 5006)


def test_context_overflow_is_3030(emu: Emulator) -> None:
    message = _error(emu.run("@cf/tinyllama/tinyllama-1.1b-chat-v1.0", user("word " * 3000)), 400, 3030)
    assert message.startswith("AiError: AiError: Max context reached 3003 tokens but model supports only 2048")
    assert UUID_SUFFIX.search(message)


def test_vision_model_needs_agreement_per_account(emu: Emulator) -> None:
    model = "@cf/meta/llama-3.2-11b-vision-instruct"
    other = Emulator(emu.host, emu.port, account="someone-else")
    assert "User has not agreed" in _error(other.run(model, user("hi")), 403, 5016)
    assert other.run(model, {"prompt": "agree"}).status == 200
    assert other.run(model, {**user("hi"), "image": [1, 2, 3]}).status == 200
    fresh = Emulator(emu.host, emu.port, account="yet-another")
    _error(fresh.run(model, user("hi")), 403, 5016)


def test_empty_messages_with_tools_answer_plainly(emu: Emulator) -> None:
    result = emu.run(LLAMA, {"messages": [], "tools": [WEATHER_TOOL]}).json()["result"]
    assert result["tool_calls"] == [] and result["response"].endswith("You said: ")

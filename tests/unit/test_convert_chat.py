from __future__ import annotations

from typing import Any

import pytest

from app.catalog import Catalog
from app.convert.chat import chat_payload, short_tool_id
from app.errors import InvalidRequest
from app.protocol.openai import ChatCompletionRequest

CATALOG = Catalog()


def payload(model: str, stream: bool = False, **body: Any) -> dict[str, Any]:
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    request = ChatCompletionRequest.model_validate({"model": model, **body})
    return chat_payload(request, CATALOG.resolve(model), default_max_tokens=1000, stream=stream)


def test_default_max_tokens_is_sent_because_workers_ai_defaults_to_256() -> None:
    assert payload("@cf/meta/llama-3.1-8b-instruct-fast")["max_tokens"] == 1000


def test_max_completion_tokens_wins_and_is_kept_inside_the_context_window() -> None:
    assert payload("@cf/meta/llama-3.1-8b-instruct-fast", max_completion_tokens=50, max_tokens=80)["max_tokens"] == 50
    assert payload("@hf/thebloke/deepseek-coder-6.7b-instruct-awq", max_tokens=100_000)["max_tokens"] < 4096


def test_array_content_is_flattened_and_null_becomes_empty_for_text_models() -> None:
    sent = payload(
        "@cf/meta/llama-3.1-8b-instruct-fast",
        messages=[
            {"role": "developer", "content": [{"type": "text", "text": "be brief"}, {"type": "text", "text": "ok"}]},
            {"role": "assistant", "content": None},
            {"role": "user", "content": "hi"},
        ],
    )
    assert sent["messages"] == [
        {"role": "system", "content": "be brief\nok"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "hi"},
    ]


def test_vision_models_get_data_uri_parts() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    sent = payload(
        "@cf/meta/llama-4-scout-17b-16e-instruct",
        messages=[{"role": "user", "content": [{"type": "text", "text": "what is it?"}, image]}],
    )
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]


def test_images_to_a_text_only_model_are_a_clear_400() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(InvalidRequest) as raised:
        payload("@cf/meta/llama-3.1-8b-instruct-fast", messages=[{"role": "user", "content": [image]}])
    assert raised.value.param == "messages[0].content"


def test_conversion_never_passes_on_a_web_address() -> None:
    # Fetching is the serving layer's (app/serving/image_urls.py); a URL reaching the pure conversion is refused.
    text = {"type": "text", "text": "what is it?"}
    image = {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest"}}
    with pytest.raises(InvalidRequest, match="data URI") as raised:
        payload("@cf/meta/llama-4-scout-17b-16e-instruct", messages=[{"role": "user", "content": [text, image]}])
    assert raised.value.param == "messages[0].content[1].image_url.url"


def test_sampling_parameters_are_clamped_to_the_model_ranges() -> None:
    sent = payload(
        "@cf/meta/llama-3.1-8b-instruct-fast", temperature=9, top_p=0, top_k=500, seed=0, frequency_penalty=-2
    )
    assert sent["temperature"] == 5.0
    assert sent["top_p"] == 0.001
    assert sent["top_k"] == 50
    assert sent["seed"] == 1
    assert sent["frequency_penalty"] == -2.0
    wide = payload("@cf/mistralai/mistral-small-3.1-24b-instruct", frequency_penalty=-1.5)
    assert wide["frequency_penalty"] == 0.0


def test_tool_history_is_converted_for_workers_ai() -> None:
    sent = payload(
        "@cf/mistralai/mistral-small-3.1-24b-instruct",
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_abc123def456",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_abc123def456", "content": "sunny"},
        ],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    )
    assistant, tool = sent["messages"][1], sent["messages"][2]
    assert assistant["content"] == ""
    assert assistant["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    # mistral-small-3.1 wants 9 letters/digits, and both sides must still pair up
    assert assistant["tool_calls"][0]["id"] == tool["tool_call_id"] == short_tool_id("call_abc123def456")
    assert len(tool["tool_call_id"]) == 9 and tool["tool_call_id"].isalnum()
    assert sent["tools"][0]["function"]["name"] == "get_weather"


def test_tool_choice_none_drops_tools_and_a_named_choice_keeps_only_that_tool() -> None:
    tools = [
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "function": {"name": "b"}},
    ]
    assert "tools" not in payload("@cf/meta/llama-3.3-70b-instruct-fp8-fast", tools=tools, tool_choice="none")
    named = payload(
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "b"}},
    )
    assert [t["function"]["name"] for t in named["tools"]] == ["b"]


def test_json_schema_is_sent_bare_to_native_models() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    sent = payload(
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}},
    )
    assert sent["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert payload("@cf/meta/llama-3.3-70b-instruct-fp8-fast", response_format={"type": "json_object"})[
        "response_format"
    ] == {"type": "json_object"}


def test_stream_flag_and_openai_shaped_usage_request() -> None:
    assert payload("@cf/meta/llama-3.1-8b-instruct-fast", stream=True)["stream"] is True
    shaped = payload("@cf/qwen/qwen3-30b-a3b-fp8", stream=True)
    assert shaped["stream_options"] == {"include_usage": True}

"""Chat completions end to end: the official openai client -> gateway -> Workers AI emulator, over loopback."""

from __future__ import annotations

import json

import openai

from tests.servers import Emulator

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
TOOLS_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def say(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_plain_chat(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: hi there"))
    assert answer.choices[0].message.content == "hi there"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.object == "chat.completion" and isinstance(answer.created, int)
    assert answer.model == LLAMA
    assert answer.usage is not None
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0
    sent = upstream.last_run()
    assert sent["max_tokens"] == 4096  # the gateway's default, not Workers AI's 256
    assert sent["messages"] == say("Repeat after me: hi there")


def test_alias_reaches_the_mapped_model(client: openai.OpenAI, upstream: Emulator) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=say("hello"))
    assert upstream.requests()[-1]["path"].endswith("/ai/run/@cf/meta/llama-3.1-8b-instruct-fp8-fast")


def test_streamed_chat(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: one two three"), stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_stream_include_usage_ends_with_a_usage_chunk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=LLAMA, messages=say("Repeat after me: a b c d"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == 4  # the emulator's cumulative count, not doubled
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_stream_helper_accumulates_the_answer(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model=LLAMA, messages=say("Repeat after me: via the helper")) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "via the helper"


def test_tool_call(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(model=TOOLS_MODEL, messages=say("weather in Paris?"), tools=[WEATHER_TOOL])
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    assert isinstance(json.loads(call.function.arguments), dict)
    assert upstream.last_run()["tools"][0]["function"]["name"] == "get_weather"
    # Send the result back: the history (assistant tool call with null content, tool result) must be accepted.
    follow = client.chat.completions.create(
        model=TOOLS_MODEL,
        messages=[
            *say("weather in Paris?"),
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow.choices[0].message.content == "The tool returned: sunny, 21C"
    history = upstream.last_run()["messages"]
    assert history[1]["content"] == "" and history[1]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model=TOOLS_MODEL, messages=say("weather?"), tools=[WEATHER_TOOL], stream=True)
    )
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls and calls[0].index == 0 and calls[0].id and calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    arguments = "".join(tc.function.arguments or "" for tc in calls)
    assert isinstance(json.loads(arguments), dict)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_through_the_stream_helper(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model=TOOLS_MODEL, messages=say("weather?"), tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_json_mode_returns_a_json_string(client: openai.OpenAI, upstream: Emulator) -> None:
    schema = {"type": "object", "properties": {"capital": {"type": "string"}}, "required": ["capital"]}
    answer = client.chat.completions.create(
        model=TOOLS_MODEL,
        messages=say("capital of India?"),
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    )
    assert isinstance(json.loads(answer.choices[0].message.content or ""), dict)
    assert upstream.last_run()["response_format"] == {"type": "json_schema", "json_schema": schema}


def test_json_mode_streamed_is_served_from_a_whole_answer(client: openai.OpenAI, upstream: Emulator) -> None:
    chunks = list(
        client.chat.completions.create(
            model=TOOLS_MODEL, messages=say("json please"), response_format={"type": "json_object"}, stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)
    assert "stream" not in upstream.last_run()  # Workers AI JSON mode does not stream


def test_reasoning_moves_to_reasoning_content(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model="@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", messages=say("Repeat after me: 42")
    )
    message = answer.choices[0].message
    assert message.content == "42"
    assert "</think>" not in (message.content or "")
    assert getattr(message, "reasoning_content", None)


def test_reasoning_streamed(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", messages=say("Repeat after me: 42"), stream=True
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    content = "".join(d.content or "" for d in deltas)
    reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    assert content == "42" and reasoning and "think>" not in content + reasoning


def test_openai_shaped_model_with_reasoning_field(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model="@cf/qwen/qwen3-30b-a3b-fp8", messages=say("Repeat after me: ok"))
    assert answer.choices[0].message.content == "ok"
    assert getattr(answer.choices[0].message, "reasoning_content", None)


def test_openai_shaped_stream_usage_not_double_counted(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="@cf/google/gemma-4-26b-a4b-it",
            messages=say("Repeat after me: x y z"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "x y z"
    reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    usage = chunks[-1].usage
    # The final cumulative count (reasoning words + 3 answer words), not it plus the per-chunk increments.
    assert usage is not None and usage.completion_tokens == len(reasoning.split()) + 3


def test_model_that_answers_json_when_asked_to_stream(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="@cf/openai/gpt-oss-120b", messages=say("Repeat after me: still streamed"), stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "still streamed"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_vision_content_is_sent_as_data_uri(client: openai.OpenAI, upstream: Emulator) -> None:
    image = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
        "rkJggg=="
    )
    answer = client.chat.completions.create(
        model="@cf/meta/llama-4-scout-17b-16e-instruct",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Repeat after me: a picture"},
                    {"type": "image_url", "image_url": {"url": image}},
                ],
            }
        ],
    )
    assert answer.choices[0].message.content
    parts = upstream.last_run()["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": image}}


def test_array_content_is_flattened_for_text_models(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": [{"type": "text", "text": "Repeat after me: flat"}]}]
    )
    assert answer.choices[0].message.content == "flat"
    assert upstream.last_run()["messages"][0]["content"] == "Repeat after me: flat"


def test_stop_is_enforced_by_the_gateway(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=LLAMA, messages=say("Repeat after me: one two STOP three"), stop=["STOP"]
    )
    assert answer.choices[0].message.content == "one two "
    assert answer.choices[0].finish_reason == "stop"


def test_stop_across_stream_chunks(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=LLAMA, messages=say("Repeat after me: alpha beta gamma delta"), stop=["beta gam"], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "alpha "
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_n_two_runs_two_upstream_calls(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: twice"), n=2)
    assert [c.index for c in answer.choices] == [0, 1]
    assert all(c.message.content == "twice" for c in answer.choices)
    assert len([r for r in upstream.requests() if "/ai/run/" in r["path"]]) == 2
    assert answer.usage is not None and answer.usage.completion_tokens == 2


def test_n_two_streamed(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: a b"), n=2, stream=True))
    for index in (0, 1):
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].index == index)
        assert text == "a b"


def test_length_finish_reason(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: a b c d e f"), max_tokens=3)
    assert answer.choices[0].finish_reason == "length"
    assert answer.choices[0].message.content == "a b c"
    assert upstream.last_run()["max_tokens"] == 3


def test_parameters_are_clamped_before_they_reach_workers_ai(client: openai.OpenAI, upstream: Emulator) -> None:
    client.chat.completions.create(
        model=LLAMA,
        messages=say("hi"),
        temperature=1.5,
        top_p=1.0,
        seed=0,
        extra_body={"top_k": 100, "repetition_penalty": 1.1},
    )
    sent = upstream.last_run()
    assert sent["temperature"] == 1.5 and sent["top_k"] == 50 and sent["seed"] == 1
    assert sent["repetition_penalty"] == 1.1


def test_unknown_extra_fields_are_ignored(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=LLAMA, messages=say("Repeat after me: fine"), extra_body={"some_future_field": {"x": 1}}, user="u1"
    )
    assert answer.choices[0].message.content == "fine"


def test_legacy_completions(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.completions.create(model=LLAMA, prompt="Repeat after me: legacy", max_tokens=20)
    assert answer.object == "text_completion" and answer.choices[0].text == "legacy"
    assert upstream.last_run()["prompt"] == "Repeat after me: legacy"
    streamed = list(client.completions.create(model=LLAMA, prompt="Repeat after me: old style", stream=True))
    assert "".join(c.choices[0].text for c in streamed if c.choices) == "old style"
    assert streamed[-1].choices[0].finish_reason == "stop"


def test_streams_are_asked_for_uncompressed(client: openai.OpenAI, upstream: Emulator) -> None:
    list(client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: x"), stream=True))
    headers = upstream.requests()[-1]["headers"]
    assert headers["accept-encoding"] == "identity" and headers["accept"] == "text/event-stream"
    assert headers["authorization"] == "Bearer cf-test-token"

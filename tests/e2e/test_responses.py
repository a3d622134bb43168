"""The Responses API end to end: the official openai client's `client.responses` -> gateway -> emulator."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
TOOLS_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
REASONING_MODEL = "@cf/qwen/qwen3-30b-a3b-fp8"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def post(gateway_url: str, body: dict[str, Any]) -> Answer:
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
    return call("POST", f"{gateway_url}/v1/responses", body, headers)


def runs(upstream: Emulator) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if "/ai/run/" in r["path"]]


def test_plain_response(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.responses.create(model=LLAMA, input="Repeat after me: hi there", instructions="Be brief.")
    assert answer.object == "response" and answer.id.startswith("resp_")
    assert answer.created_at == int(answer.created_at) > 0 and answer.status == "completed"  # the SDK types a float
    assert answer.output_text == "hi there"
    assert answer.output[0].type == "message" and answer.output[0].role == "assistant"
    assert answer.usage is not None and answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    assert answer.usage.total_tokens == answer.usage.input_tokens + answer.usage.output_tokens
    assert answer.model == LLAMA and answer.instructions == "Be brief."
    sent = upstream.last_run()
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Repeat after me: hi there"},
    ]


def test_options_reach_the_upstream(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.responses.create(
        model=LLAMA,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Repeat after me: ok"}]}],
        max_output_tokens=50,
        temperature=0.5,
        top_p=0.9,
        metadata={"ticket": "42"},
        store=False,
    )
    assert answer.output_text == "ok" and answer.metadata == {"ticket": "42"} and answer.store is False
    sent = upstream.last_run()
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.5 and sent["top_p"] == 0.9
    assert sent["messages"] == [{"role": "user", "content": "Repeat after me: ok"}]


def test_streamed_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model=LLAMA, input="Repeat after me: one two three") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "one two three"
    assert final.output_text == "one two three" and final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0


def test_stream_has_event_lines(gateway_url: str) -> None:
    body = {"model": LLAMA, "input": "Repeat after me: a b", "stream": True}
    answer = post(gateway_url, body)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    frames = [frame for frame in answer.body.decode().split("\n\n") if frame]
    for frame in frames:
        event, data = frame.split("\n")
        assert event.startswith("event: ") and data.startswith("data: ")
        assert json.loads(data[6:])["type"] == event[7:]
    assert frames[-1].startswith("event: response.completed")
    completed = json.loads(frames[-1].split("\n")[1][6:])["response"]
    assert type(completed["created_at"]) is int and type(completed["usage"]["total_tokens"]) is int


def test_function_calling_round_trip(client: openai.OpenAI, upstream: Emulator) -> None:
    first = client.responses.create(model=TOOLS_MODEL, input="Weather in Paris?", tools=[WEATHER])  # type: ignore[list-item]
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert isinstance(json.loads(calls[0].arguments), dict) and calls[0].call_id
    assert upstream.last_run()["tools"][0]["function"]["name"] == "get_weather"
    second = client.responses.create(
        model=TOOLS_MODEL,
        tools=[WEATHER],  # type: ignore[list-item]
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "function_call", "call_id": calls[0].call_id, "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21C"},
        ],
    )
    assert second.output_text == "The tool returned: sunny, 21C"
    sent = upstream.last_run()["messages"]
    assert sent[1]["role"] == "assistant" and sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2]["role"] == "tool" and sent[2]["content"] == "sunny, 21C"


def test_streamed_function_call(client: openai.OpenAI) -> None:
    with client.responses.stream(model=TOOLS_MODEL, input="Weather?", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.done" in kinds
    call = final.output[-1]
    assert call.type == "function_call" and call.name == "get_weather"
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == json.loads(call.arguments)


def test_json_schema_format(client: openai.OpenAI, upstream: Emulator) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    answer = client.responses.create(
        model=TOOLS_MODEL,
        input="A city, as JSON",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema}},
    )
    assert isinstance(json.loads(answer.output_text)["city"], str)
    assert upstream.last_run()["response_format"] == {"type": "json_schema", "json_schema": schema}


def test_previous_response_id_continues(client: openai.OpenAI, upstream: Emulator) -> None:
    first = client.responses.create(model=LLAMA, input="Repeat after me: first answer")
    second = client.responses.create(model=LLAMA, input="Repeat after me: again", previous_response_id=first.id)
    assert second.output_text == "again" and second.previous_response_id == first.id
    assert upstream.last_run()["messages"] == [
        {"role": "user", "content": "Repeat after me: first answer"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "Repeat after me: again"},
    ]


def test_reasoning_item(client: openai.OpenAI) -> None:
    answer = client.responses.create(model=REASONING_MODEL, input="hello", reasoning={"effort": "low"})
    kinds = [item.type for item in answer.output]
    assert kinds == ["reasoning", "message"]
    reasoning = answer.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].text
    assert answer.output_text.startswith("Hello from the Workers AI emulator")


def test_streamed_reasoning(client: openai.OpenAI) -> None:
    with client.responses.stream(model=REASONING_MODEL, input="hello") as stream:
        events = list(stream)
        final = stream.get_final_response()
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary and final.output[0].type == "reasoning" and final.output[0].summary[0].text == summary


def test_incomplete_on_max_output_tokens(client: openai.OpenAI) -> None:
    answer = client.responses.create(model=LLAMA, input="Repeat after me: " + "word " * 40, max_output_tokens=16)
    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None and answer.incomplete_details.reason == "max_output_tokens"


def test_get_and_delete(client: openai.OpenAI) -> None:
    made = client.responses.create(model=LLAMA, input="Repeat after me: keep me")
    got = client.responses.retrieve(made.id)
    assert got.id == made.id and got.output_text == "keep me"
    client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(made.id)
    assert caught.value.body["message"] == f"Response with id '{made.id}' not found."  # type: ignore[index]


def test_not_stored_is_not_found(client: openai.OpenAI) -> None:
    made = client.responses.create(model=LLAMA, input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)


def test_another_key_cannot_read_it(client: openai.OpenAI, gateway_url: str) -> None:
    made = client.responses.create(model=LLAMA, input="hi")
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="other-key", max_retries=0) as other:
        with pytest.raises(openai.NotFoundError):
            other.responses.retrieve(made.id)
        with pytest.raises(openai.NotFoundError):
            other.responses.create(model=LLAMA, input="hi", previous_response_id=made.id)
    assert client.responses.retrieve(made.id).id == made.id


def test_stream_failure_after_start_is_in_band(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(cut_stream_after=2)
    with client.responses.stream(model=LLAMA, input="Repeat after me: a b c d e f") as stream:
        events = list(stream)
    assert [e.type for e in events][-2:] == ["error", "response.failed"]
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error is not None and "ended the stream" in failed.response.error.message


BAD_INPUTS = [
    ({"input": "hi"}, "model"),
    ({"model": LLAMA}, "input"),
    ({"model": LLAMA, "input": ""}, "input"),
    ({"model": LLAMA, "input": [{"type": "message", "role": "pirate", "content": "x"}]}, "input[0].role"),
    ({"model": LLAMA, "input": "hi", "tools": [{"type": "function", "name": "bad name"}]}, "tools[0].name"),
    ({"model": LLAMA, "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
    ({"model": LLAMA, "input": "hi", "temperature": 3}, "temperature"),
    ({"model": LLAMA, "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"model": LLAMA, "input": "hi", "background": True}, "background"),
    ({"model": LLAMA, "input": [{"type": "input_image", "image_url": "https://x"}]}, "input[0].type"),
]


@pytest.mark.parametrize(("body", "param"), BAD_INPUTS)
def test_bad_input(gateway_url: str, upstream: Emulator, body: dict[str, Any], param: str) -> None:
    answer = post(gateway_url, body)
    assert answer.status == 400, answer.body
    error = answer.error
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert runs(upstream) == []


def test_image_on_a_text_model_is_refused(client: openai.OpenAI, upstream: Emulator) -> None:
    content = [{"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=LLAMA, input=[{"role": "user", "content": content}])  # type: ignore[list-item]
    assert caught.value.body["param"] == "input[0].content[0]"  # type: ignore[index]
    assert runs(upstream) == []


def test_unknown_previous_response_is_404(client: openai.OpenAI, upstream: Emulator) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=LLAMA, input="hi", previous_response_id="resp_nope")
    assert caught.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert runs(upstream) == []


GPT_OSS = "@cf/openai/gpt-oss-120b"


def test_gpt_oss_gets_its_native_input(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.responses.create(
        model=GPT_OSS, input="Repeat after me: native", instructions="Be brief.", reasoning={"effort": "low"}
    )
    assert answer.output_text == "native" and answer.status == "completed"
    assert [item.type for item in answer.output] == ["reasoning", "message"]
    assert answer.output[0].type == "reasoning" and answer.output[0].summary[0].text
    assert answer.usage is not None and answer.usage.output_tokens > 0
    sent = upstream.last_run()
    assert "messages" not in sent and sent["reasoning"] == {"effort": "low"}
    assert sent["input"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Repeat after me: native"},
    ]


def test_gpt_oss_native_stream_and_continuation(client: openai.OpenAI, upstream: Emulator) -> None:
    with client.responses.stream(model=GPT_OSS, input="Repeat after me: first") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert final.output_text == "first" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert upstream.last_run()["input"] == "Repeat after me: first"
    second = client.responses.create(model=GPT_OSS, input="Repeat after me: second", previous_response_id=final.id)
    assert second.output_text == "second"
    sent = upstream.last_run()["input"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"] and sent[1]["content"] == "first"


def test_gpt_oss_with_tools_goes_the_chat_way(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.responses.create(model=GPT_OSS, input="Weather?", tools=[WEATHER])  # type: ignore[list-item]
    assert answer.output[-1].type == "function_call" and answer.output[-1].name == "get_weather"
    assert "messages" in upstream.last_run() and "input" not in upstream.last_run()


def test_gpt_oss_chat_completions_still_work(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(
        model=GPT_OSS, messages=[{"role": "user", "content": "Repeat after me: ok"}]
    )
    assert answer.choices[0].message.content == "ok"
    assert "messages" in upstream.last_run()

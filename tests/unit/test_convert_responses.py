"""Responses requests -> chat requests, chat answers -> Response objects and the event sequence (pure)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.catalog import Catalog, Model, Task
from app.convert.response_events import EventWriter
from app.convert.response_output import Answer, message_item, response_of, text_part
from app.convert.responses import chat_request, check_images, echo_json, echo_of, history, listed_items, stored_input
from app.convert.results import Choice, Usage
from app.errors import InvalidRequest
from app.protocol.openai import ChatCompletionRequest
from app.protocol.responses import ResponseRequest
from app.serving.chat import Call

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"


def request(**fields: Any) -> ResponseRequest:
    return ResponseRequest.model_validate_json(orjson.dumps({"model": LLAMA, "input": "hi", **fields}))


def model(name: str = LLAMA) -> Model:
    return Catalog({}).require(name, Task.TEXT_GENERATION)


def answer(req: ResponseRequest | None = None) -> Answer:
    return Answer.new(LLAMA, 1700000000, echo_json(req or request()))


def events(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for frame in raw.decode().split("\n\n"):
        if frame:
            kind, data = frame.split("\n")
            body = orjson.loads(data.removeprefix("data: "))
            assert kind == f"event: {body['type']}"
            out.append(body)
    return out


def test_items_become_chat_messages() -> None:
    req = request(
        instructions="Be brief.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]},
        ],
    )
    chat = chat_request(req, listed_items(req))
    roles = [m.role for m in chat.messages]
    assert roles == ["system", "user", "assistant", "tool"]  # the reasoning item is not sent back
    call = chat.messages[2].tool_calls[0]  # type: ignore[index]
    assert call.id == "call_1" and call.function.name == "get_weather" and call.function.arguments == '{"city":"Paris"}'
    assert chat.messages[3].content == "sunny" and chat.messages[3].tool_call_id == "call_1"


def test_calls_after_text_join_the_assistant_message() -> None:
    req = request(
        input=[
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": "Let me look."},
            {"type": "function_call", "call_id": "a", "name": "f"},
            {"type": "function_call", "call_id": "b", "name": "g"},
        ]
    )
    messages = chat_request(req, listed_items(req)).messages
    assert len(messages) == 2 and [c.id for c in messages[1].tool_calls or []] == ["a", "b"]


def test_string_input_is_the_last_user_message() -> None:
    req = request(input="again", previous_response_id="resp_1")
    earlier = history([{"type": "message", "role": "user", "content": "first"}], [])
    chat = chat_request(req, earlier)
    assert [(m.role, m.content) for m in chat.messages] == [("user", "first"), ("user", "again")]
    assert orjson.loads(stored_input(req, earlier)) == [
        {"type": "message", "role": "user", "content": "first"},
        {"type": "message", "role": "user", "content": "again"},
    ]


def test_input_image_reaches_a_vision_model_and_is_refused_elsewhere() -> None:
    image = {"type": "input_image", "image_url": "https://example.com/cat.png"}
    req = request(input=[{"role": "user", "content": [{"type": "input_text", "text": "What?"}, image]}])
    items = listed_items(req)
    remote = check_images(items, model(SCOUT))
    assert [(param, url.url) for param, url, _ in remote] == [("input[0].content[1].image_url", image["image_url"])]
    parts = chat_request(req, items).messages[0].content
    assert isinstance(parts, list) and [p.type for p in parts] == ["text", "image_url"]
    with pytest.raises(InvalidRequest) as caught:
        check_images(items, model(LLAMA))
    assert caught.value.param == "input[0].content[1]"


def test_text_format_json_schema_and_options() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    req = request(
        text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}},
        max_output_tokens=50,
        temperature=0.2,
        tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        tool_choice={"type": "function", "name": "f"},
        reasoning={"effort": "low"},
    )
    chat = chat_request(req, listed_items(req))
    assert chat.response_format is not None and chat.response_format.type == "json_schema"
    assert chat.response_format.json_schema is not None and chat.response_format.json_schema.schema_ == schema
    assert chat.max_completion_tokens == 50 and chat.temperature == 0.2 and chat.reasoning_effort == "low"
    assert chat.tools is not None and chat.tools[0].function.name == "f"
    assert chat.tool_choice is not None and chat.tool_choice.function.name == "f"  # type: ignore[union-attr]
    echo = echo_of(req)
    assert echo["text"]["format"]["schema"] == schema and echo["tool_choice"] == {"type": "function", "name": "f"}


def test_whole_answer_object() -> None:
    choice = Choice("Hello", reasoning="thinking", tool_calls=[], finish_reason="stop")
    body = orjson.loads(response_of(answer(request(metadata={"k": "v"})), choice, Usage(3, 4)))
    assert body["object"] == "response" and body["id"].startswith("resp_") and body["created_at"] == 1700000000
    assert body["status"] == "completed" and body["incomplete_details"] is None and body["metadata"] == {"k": "v"}
    assert [item["type"] for item in body["output"]] == ["reasoning", "message"]
    assert body["output"][0]["summary"] == [{"type": "summary_text", "text": "thinking"}]
    assert body["output"][1]["content"][0] == {
        "type": "output_text",
        "text": "Hello",
        "annotations": [],
        "logprobs": [],
    }
    assert body["usage"]["input_tokens"] == 3 and body["usage"]["total_tokens"] == 7


def test_length_is_incomplete() -> None:
    body = orjson.loads(response_of(answer(), Choice("cut", finish_reason="length"), Usage(1, 16)))
    assert body["status"] == "incomplete" and body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"


def test_function_call_output_item() -> None:
    call = {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    body = orjson.loads(response_of(answer(), Choice(None, tool_calls=[call], finish_reason="tool_calls"), Usage()))
    assert [item["type"] for item in body["output"]] == ["function_call"]
    assert body["output"][0]["call_id"] == "call_9" and body["output"][0]["arguments"] == '{"a":1}'


def test_event_sequence_of_a_streamed_text() -> None:
    writer = EventWriter(answer())
    raw = writer.opening() + writer.feed([{"content": "He"}, {"content": "llo"}])
    closing, response = writer.close("stop", Usage(2, 2))
    seen = events(raw + closing)
    assert [e["type"] for e in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in seen] == list(range(len(seen)))
    assert seen[0]["response"]["status"] == "in_progress" and seen[0]["response"]["usage"] is None
    assert [e["delta"] for e in seen if e["type"] == "response.output_text.delta"] == ["He", "llo"]
    assert seen[6]["text"] == "Hello" and seen[8]["item"]["content"][0]["text"] == "Hello"
    assert (
        seen[-1]["response"] == orjson.loads(response)
        and orjson.loads(response)["output"][0]["id"] == seen[4]["item_id"]
    )


def test_event_sequence_of_reasoning_then_call() -> None:
    writer = EventWriter(answer())
    raw = writer.opening() + writer.feed(
        [
            {"reasoning_content": "hmm"},
            {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a":'}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
        ]
    )
    closing, response = writer.close("tool_calls", Usage(1, 1))
    kinds = [e["type"] for e in events(raw + closing)]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    output = orjson.loads(response)["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call"]
    assert output[1]["arguments"] == '{"a":1}' and output[1]["call_id"] == "call_1"


def test_incomplete_stream_and_failure() -> None:
    writer = EventWriter(answer())
    writer.opening()
    writer.feed([{"content": "cut"}])
    closing, _ = writer.close("length", Usage(1, 16))
    last = events(closing)[-1]
    assert last["type"] == "response.incomplete" and last["response"]["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    failing = EventWriter(answer())
    failing.opening()
    tail = events(failing.failed(InvalidRequest("boom", code="x")))
    assert [e["type"] for e in tail] == ["error", "response.failed"] and tail[0]["sequence_number"] == 2
    assert tail[1]["response"]["status"] == "failed" and tail[1]["response"]["error"]["message"] == "boom"


def test_sequence_numbers_past_the_tail_table() -> None:
    writer = EventWriter(answer())
    writer.opening()
    seen = events(writer.feed([{"content": "x"}] * 2100))
    assert [e["sequence_number"] for e in seen] == list(range(2, 2 + len(seen)))


def test_echo_of_a_plain_request_is_the_full_echo() -> None:
    for req in (request(max_output_tokens=9, previous_response_id="resp_x"), request(metadata={"a": "b"}), request()):
        assert orjson.loads(b"{" + echo_json(req) + b"}") == echo_of(req)


def test_the_chat_request_reads_as_the_validated_chat_request_would() -> None:
    """The chat path reads the reshaped request as plain objects (not pydantic models): every field must
    read as the validated chat request's, and the Workers AI payload must be the same."""
    cases = [
        (request(), {"messages": [{"role": "user", "content": "hi"}]}),
        (
            request(instructions="Be brief.", max_output_tokens=50, temperature=0.3, top_p=0.9, user="u1", stream=True),
            {
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                "max_completion_tokens": 50,
                "temperature": 0.3,
                "top_p": 0.9,
                "user": "u1",
                "stream": True,
            },
        ),
        (
            request(
                input=[
                    {"role": "user", "content": "Weather?"},
                    {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                ],
                text={"format": {"type": "json_object"}},
            ),
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                        ],
                    },
                    {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
                ],
                "response_format": {"type": "json_object"},
            },
        ),
    ]
    for req, chat in cases:
        made = chat_request(req, listed_items(req))
        validated = ChatCompletionRequest.model_validate({"model": LLAMA, "stream": False, **chat})
        for name in ChatCompletionRequest.model_fields:
            if name != "messages":
                assert getattr(made, name) == getattr(validated, name), name
        for ours, theirs in zip(made.messages, validated.messages, strict=True):
            for name in type(theirs).model_fields:
                assert getattr(ours, name) == getattr(theirs, name), name
        assert Call.for_chat(made, model(), 4096).payload == Call.for_chat(validated, model(), 4096).payload


def test_echo_of_continuations_and_plain_requests_in_any_order() -> None:
    """The plain echo is cached without `previous_response_id`: each continuation still names its own."""
    for previous in ("resp_a", None, "resp_b", None, "resp_a"):
        req = request(max_output_tokens=7, previous_response_id=previous)
        assert orjson.loads(b"{" + echo_json(req) + b"}") == echo_of(req)


def test_a_message_item_holds_the_text_part_the_events_send() -> None:
    item = orjson.loads(message_item("msg_1", b'"he said \\"hi\\""', "incomplete"))
    assert item == {
        "id": "msg_1",
        "type": "message",
        "status": "incomplete",
        "role": "assistant",
        "content": [orjson.loads(text_part(b'"he said \\"hi\\""'))],
    }
    assert item["content"][0]["text"] == 'he said "hi"'

"""POST /v1/messages and /v1/messages/count_tokens through the official `anthropic` package."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import Message

from app.emulator.completion import REASONING_TEXT
from tests.conftest import TEST_KEY
from tests.http import call
from tests.imageserver import PNG
from tests.servers import Emulator

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
REASONER = "@cf/qwen/qwen3-30b-a3b-fp8"  # OpenAI-shaped, streams, reasoning in its own field
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def claude(gateway_url: str) -> Iterator[anthropic.Anthropic]:
    """The Anthropic SDK pointed at the gateway (its key as `x-api-key`, no retries)."""
    with anthropic.Anthropic(base_url=gateway_url, api_key=TEST_KEY, max_retries=0) as client:
        yield client


def test_create_answers_an_anthropic_message(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    answer = claude.messages.create(
        model=MODEL,
        max_tokens=200,
        system="Be brief.",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}],
        extra_body={"temperature": 0.3, "top_k": 20},  # older SDKs' parameters, which clients still send
    )
    assert answer.type == "message" and answer.role == "assistant" and answer.id.startswith("msg_")
    assert answer.model == MODEL and answer.stop_reason == "end_turn" and answer.stop_sequence is None
    assert [block.type for block in answer.content] == ["text"]
    assert answer.content[0].text == f"Hello from the Workers AI emulator ({MODEL}). You said: Hi there"  # type: ignore[union-attr]
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    sent = upstream.last_run()
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
    assert sent["max_tokens"] == 200 and sent["temperature"] == 0.3 and sent["top_k"] == 20


def test_bearer_key_alias_and_beta_query_work_too(gateway_url: str) -> None:
    """As Claude-style agents call it: `Authorization: Bearer` (ANTHROPIC_AUTH_TOKEN), `?beta=true`."""
    body = {"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "Yo"}]}
    headers = {"Authorization": f"Bearer {TEST_KEY}", "anthropic-version": "2023-06-01", "anthropic-beta": "x"}
    answer = call("POST", f"{gateway_url}/v1/messages?beta=true", body, headers)
    assert answer.status == 200 and answer.json()["model"] == "@cf/meta/llama-3.1-8b-instruct-fp8-fast"
    counted = call("POST", f"{gateway_url}/v1/messages/count_tokens?beta=true", body, headers)
    assert counted.status == 200 and counted.json()["input_tokens"] > 0


def test_stream_gives_text_and_final_message(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    with claude.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "Stream this"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"Hello from the Workers AI emulator ({MODEL}). You said: Stream this"
    assert final.content[0].text == text and final.stop_reason == "end_turn"  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    assert upstream.last_run()["stream"] is True


def test_raw_stream_is_anthropics_event_sequence(gateway_url: str) -> None:
    body = {"model": MODEL, "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    answer = call("POST", f"{gateway_url}/v1/messages", body, {"x-api-key": TEST_KEY})
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    names = [line[7:] for line in answer.body.decode().splitlines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_stop_sequence_is_reported(claude: anthropic.Anthropic) -> None:
    messages: Any = [{"role": "user", "content": "Repeat after me: one two three four"}]
    whole = claude.messages.create(model=MODEL, max_tokens=100, messages=messages, stop_sequences=["three"])
    assert whole.stop_reason == "stop_sequence" and whole.stop_sequence == "three"
    assert whole.content[0].text == "one two "  # type: ignore[union-attr]
    with claude.messages.stream(model=MODEL, max_tokens=100, messages=messages, stop_sequences=["three"]) as s:
        final = s.get_final_message()
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == "three"
    assert final.content[0].text == "one two "  # type: ignore[union-attr]


def test_max_tokens_stop_reason(claude: anthropic.Anthropic) -> None:
    answer = claude.messages.create(
        model=MODEL, max_tokens=3, messages=[{"role": "user", "content": "Repeat after me: a b c d e f g h"}]
    )
    assert answer.stop_reason == "max_tokens"


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_tools_round_trip(claude: anthropic.Anthropic, upstream: Emulator, streamed: bool) -> None:
    ask: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = _create(claude, streamed, model=MODEL, max_tokens=200, messages=ask, tools=[WEATHER])
    assert first.stop_reason == "tool_use"
    use = first.content[-1]
    assert use.type == "tool_use" and use.name == "get_weather" and isinstance(use.input, dict)
    assert isinstance(use.input.get("city"), str)
    sent = upstream.last_run()
    assert sent["tools"][0]["function"]["parameters"] == WEATHER["input_schema"]
    follow = [
        *ask,
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny, 21 C"}]},
    ]
    second = _create(claude, streamed, model=MODEL, max_tokens=200, messages=follow, tools=[WEATHER])
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "The tool returned: Sunny, 21 C"  # type: ignore[union-attr]
    messages = upstream.last_run()["messages"]
    assert messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert messages[2] == {"role": "tool", "content": "Sunny, 21 C", "tool_call_id": messages[1]["tool_calls"][0]["id"]}


def _create(client: anthropic.Anthropic, streamed: bool, **params: Any) -> Message:
    if not streamed:
        return client.messages.create(**params)
    with client.messages.stream(**params) as stream:
        return stream.get_final_message()


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_thinking_on_a_reasoning_model(claude: anthropic.Anthropic, upstream: Emulator, streamed: bool) -> None:
    messages: Any = [{"role": "user", "content": "Think first"}]
    thinking: Any = {"type": "enabled", "budget_tokens": 2048}
    answer = _create(claude, streamed, model=REASONER, max_tokens=500, messages=messages, thinking=thinking)
    assert [block.type for block in answer.content] == ["thinking", "text"]
    assert answer.content[0].thinking == REASONING_TEXT  # type: ignore[union-attr]
    assert answer.content[1].text.endswith("You said: Think first")  # type: ignore[union-attr]
    assert upstream.last_run()["reasoning_effort"] == "low"
    plain = _create(claude, streamed, model=REASONER, max_tokens=500, messages=messages)
    assert [block.type for block in plain.content] == ["text"]  # not asked for: not shown


def test_image_block_reaches_a_vision_model(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    source: Any = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()}
    content: Any = [{"type": "image", "source": source}, {"type": "text", "text": "What is it?"}]
    claude.messages.create(
        model="@cf/meta/llama-4-scout-17b-16e-instruct", max_tokens=50, messages=[{"role": "user", "content": content}]
    )
    parts = upstream.last_run()["messages"][0]["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,") and parts[1]["text"] == "What is it?"


def test_count_tokens_makes_no_upstream_call(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    short = claude.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    long = claude.messages.count_tokens(
        model=MODEL, system="x" * 400, messages=[{"role": "user", "content": "Hi"}], tools=[WEATHER]
    )
    assert 0 < short.input_tokens < long.input_tokens and long.input_tokens > 100
    assert upstream.requests() == []


def test_bad_key_is_an_authentication_error(gateway_url: str, upstream: Emulator) -> None:
    with anthropic.Anthropic(base_url=gateway_url, api_key="wrong", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert caught.value.status_code == 401
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Incorrect API key provided."},
    }
    assert upstream.requests() == []


def _post(client: anthropic.Anthropic, body: dict[str, Any]) -> Message:
    return client.post("/v1/messages", body=body, cast_to=Message)


@pytest.mark.parametrize(
    ("body", "error", "kind", "names"),
    [
        (
            {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]},
            anthropic.BadRequestError,
            "invalid_request_error",
            "max_tokens",
        ),
        (
            {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": [{"role": "user", "content": "Hi"}]},
            anthropic.NotFoundError,
            "not_found_error",
            "claude-sonnet-4-5",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 9,
                "messages": [{"role": "user", "content": [{"type": "tool_use", "name": "f"}]}],
            },
            anthropic.BadRequestError,
            "invalid_request_error",
            "messages[0].content[0].type",
        ),
        (
            {"model": MODEL, "max_tokens": 9, "messages": [{"role": "tool", "content": "Hi"}]},
            anthropic.BadRequestError,
            "invalid_request_error",
            "messages[0].role",
        ),
        (
            {"model": MODEL, "max_tokens": 9, "messages": [{"role": "user", "content": "x" * 2_100_000}]},
            anthropic.APIStatusError,
            "request_too_large",
            "bytes",
        ),
    ],
    ids=["no-max-tokens", "unknown-model", "misplaced-block", "bad-role", "oversize"],
)
def test_bad_requests_are_anthropic_errors(
    claude: anthropic.Anthropic, upstream: Emulator, body: dict[str, Any], error: type[Exception], kind: str, names: str
) -> None:
    with pytest.raises(error) as caught:
        _post(claude, body)
    assert isinstance(caught.value, anthropic.APIStatusError)
    payload = caught.value.body
    assert isinstance(payload, dict) and payload["type"] == "error" and payload["error"]["type"] == kind
    assert names in payload["error"]["message"]
    if kind == "request_too_large":
        assert caught.value.status_code == 413
    assert upstream.requests() == []


def test_wrong_method_and_unknown_subpath_are_anthropic_errors(gateway_url: str) -> None:
    for method, path, status in [("GET", "/v1/messages", 405), ("POST", "/v1/messages/batches/x", 404)]:
        answer = call(method, f"{gateway_url}{path}", None, {"x-api-key": TEST_KEY})
        assert answer.status == status
        assert answer.json()["type"] == "error" and answer.json()["error"]["type"] == (
            "invalid_request_error" if status == 405 else "not_found_error"
        )


def test_upstream_failures_are_anthropic_errors(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    messages: Any = [{"role": "user", "content": "Hi"}]
    upstream.fault(status=500, code=3043, message="internal")
    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(model=MODEL, max_tokens=10, messages=messages)
    assert caught.value.status_code == 500 and caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    upstream.fault(status=429)
    with pytest.raises(anthropic.RateLimitError):
        claude.messages.create(model=MODEL, max_tokens=10, messages=messages)


def test_an_upstream_failure_mid_stream_is_an_error_event(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    upstream.fault(cut_stream_after=2)
    with pytest.raises(anthropic.APIStatusError) as caught:
        with claude.messages.stream(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "Hi"}]) as s:
            "".join(s.text_stream)
    assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]

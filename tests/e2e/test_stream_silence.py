"""A streamed answer whose upstream goes silent (issue 27): with `UPSTREAM_READ_TIMEOUT=3` and 5 s of silence
(the emulator's `chunk_delay_ms` before one event, `chunk_delay_at`), the stream ends with the in-band error
about 3 s after the last byte, never after the silence is waited out, before the first chunk and between
chunks, for the chat, Messages and Responses framings, seen through the official clients."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anthropic
import openai
import orjson
import pytest

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator, gateway, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
PROMPT = "Repeat after me: a b c d e"  # the emulator answers "a", " b", " c", " d", " e"
SILENCE_MS = 5000
# 3 s of read timeout, measured from the request: the events before the silence come within milliseconds.
# Generous for a loaded machine, and well short of the silence's 5 s.
EARLIEST, LATEST = 2.5, 4.5


@pytest.fixture(scope="module")
def url(upstream: Emulator) -> Iterator[str]:
    with gateway(managed_env(upstream.api_base, UPSTREAM_READ_TIMEOUT="3")) as (served, _):
        yield served


def silent(upstream: Emulator, before_event: int) -> None:
    upstream.fault(chunk_delay_ms=SILENCE_MS, chunk_delay_at=before_event)


@pytest.mark.parametrize(("before_event", "passed_on"), [(0, ""), (2, "a b")])
def test_chat_stream_ends_three_seconds_into_a_silence(
    url: str, upstream: Emulator, before_event: int, passed_on: str
) -> None:
    silent(upstream, before_event)
    text, error, took = "", None, 0.0
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        started = time.monotonic()
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        try:
            for chunk in stream:
                text += "".join(choice.delta.content or "" for choice in chunk.choices)
        except openai.APIError as exc:
            error = exc
        took = time.monotonic() - started
    assert error is not None and "no content for 3 s (UPSTREAM_READ_TIMEOUT)" in error.message
    assert text == passed_on  # what came before the silence, and nothing of what came after it
    assert EARLIEST < took < LATEST, took


def test_the_in_band_error_is_openai_shaped_and_followed_by_done(url: str, upstream: Emulator) -> None:
    silent(upstream, 2)
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    started = time.monotonic()
    answer = call("POST", f"{url}/v1/chat/completions", body, {"Authorization": f"Bearer {TEST_KEY}"})
    took = time.monotonic() - started
    assert answer.status == 200 and answer.body.endswith(b"data: [DONE]\n\n")
    events = [line.removeprefix(b"data: ") for line in answer.body.split(b"\n\n") if line.startswith(b"data: ")]
    error = orjson.loads(events[-2])
    assert set(error) == {"error"} and set(error["error"]) == {"message", "type", "param", "code"}
    assert error["error"]["code"] == "upstream_timeout"
    assert EARLIEST < took < LATEST, took


def test_messages_stream_ends_three_seconds_into_a_silence(url: str, upstream: Emulator) -> None:
    silent(upstream, 2)
    text, error = "", None
    with anthropic.Anthropic(base_url=url, api_key=TEST_KEY, max_retries=0) as client:
        started = time.monotonic()
        messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": PROMPT}]
        try:
            for event in client.messages.create(model=MODEL, max_tokens=64, messages=messages, stream=True):
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text += event.delta.text
        except anthropic.APIStatusError as exc:  # the SDK raises Anthropic's in-band `error` event
            error = exc
        took = time.monotonic() - started
    assert error is not None and "UPSTREAM_READ_TIMEOUT" in str(error)
    assert text == "a b"
    assert EARLIEST < took < LATEST, took


def test_responses_stream_ends_three_seconds_into_a_silence(url: str, upstream: Emulator) -> None:
    silent(upstream, 2)
    text, kinds, error_at = "", [], 0.0
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        started = time.monotonic()
        for event in client.responses.create(model=MODEL, input=PROMPT, stream=True):
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "error":
                error_at = time.monotonic() - started
                assert event.code == "upstream_timeout"
    assert text == "a b" and kinds[-2:] == ["error", "response.failed"]
    assert EARLIEST < error_at < LATEST, error_at


def test_a_silence_before_the_answer_head_is_a_504_after_the_read_timeout(url: str, upstream: Emulator) -> None:
    upstream.fault(latency_ms=SILENCE_MS)  # nothing at all, not even the head, for 5 s
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(openai.InternalServerError) as raised:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True)
        took = time.monotonic() - started
    assert raised.value.status_code == 504 and raised.value.code == "upstream_timeout"
    assert EARLIEST < took < LATEST, took

"""A text-to-image model asked through /v1/chat/completions answers a markdown image linking to a hosted
file: whole, streamed, and exactly as OneAPI forwards a request (stream + include_usage)."""

from __future__ import annotations

import json
import re

import openai

from tests.conftest import TEST_KEY
from tests.e2e.images import JPEG, PNG, fetch, runs
from tests.http import call
from tests.servers import Emulator

MARKDOWN = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<url>http://127\.0\.0\.1:\d+/v1/files/images/[\w-]{22}\.(png|jpg))\)")
ONEAPI_LINE_LIMIT = 64 * 1024  # Go's default bufio.Scanner token size


def test_chat_with_an_image_model_answers_a_markdown_image(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(
        model="dall-e-3", messages=[{"role": "user", "content": "a red fox\nin the snow"}]
    )
    content = answer.choices[0].message.content or ""
    match = MARKDOWN.fullmatch(content)
    assert match and match["alt"] == "a red fox in the snow", content
    assert fetch(match["url"]).body.startswith(JPEG)
    assert upstream.last_run() == {"prompt": "a red fox\nin the snow"}
    assert answer.choices[0].finish_reason == "stop" and answer.object == "chat.completion"
    usage = answer.usage
    assert usage and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_array_content_and_the_last_user_message(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(
        model="@cf/stabilityai/stable-diffusion-xl-base-1.0",
        messages=[
            {"role": "system", "content": "You draw."},
            {"role": "user", "content": "an old request"},
            {"role": "assistant", "content": "![old](http://x/y.png)"},
            {"role": "user", "content": [{"type": "text", "text": "a blue"}, {"type": "text", "text": "whale"}]},
        ],
    )
    match = MARKDOWN.fullmatch(answer.choices[0].message.content or "")
    assert match and fetch(match["url"]).body.startswith(PNG)
    assert upstream.last_run()["prompt"] == "a blue whale"


def test_streamed_through_the_sdk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model="dall-e-3", messages=[{"role": "user", "content": "a kite"}], stream=True)
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert MARKDOWN.fullmatch(content)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_the_request_oneapi_forwards(gateway_url: str, upstream: Emulator) -> None:
    body = {
        "model": "dall-e-3",
        "messages": [{"role": "user", "content": "a lighthouse at dusk"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json", "Accept": "text/event-stream"}
    answer = call("POST", f"{gateway_url}/v1/chat/completions", body, headers)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    text = answer.body.decode()
    assert "data:image" not in text and "base64" not in text
    lines = [line for line in text.split("\n") if line]
    assert all(line.startswith("data: ") and len(line) < ONEAPI_LINE_LIMIT for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert [event["object"] for event in events] == ["chat.completion.chunk"] * 4
    role, content, finish, usage = events
    assert role["choices"][0]["delta"]["role"] == "assistant"
    assert MARKDOWN.fullmatch(content["choices"][0]["delta"]["content"])
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == [] and all(isinstance(v, int) for v in usage["usage"].values())
    assert usage["usage"]["total_tokens"] == usage["usage"]["prompt_tokens"] + usage["usage"]["completion_tokens"] > 0
    assert len(runs(upstream)) == 1


def test_a_chat_with_no_text_is_a_400_before_any_upstream_call(gateway_url: str, upstream: Emulator) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
    for messages in (
        [{"role": "user", "content": "   "}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}],
        [{"role": "system", "content": "only a system prompt"}],
    ):
        answer = call(
            "POST", f"{gateway_url}/v1/chat/completions", {"model": "dall-e-3", "messages": messages}, headers
        )
        assert answer.status == 400 and answer.error["param"] == "messages", answer.body
    assert runs(upstream) == []

"""What operators see: /metrics counting what was sent, request ids, and request logs without secrets."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import anthropic
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.http import call
from tests.servers import ACCOUNT, CF_TOKEN, Emulator, gateway, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
EMBEDDER = "@cf/baai/bge-base-en-v1.5"
SECRET_KEY = "sk-gw-SECRETKEY-4f9c2e7a1b"
PROMPT = "CANARY-PROMPT-zebra-quartz-9173"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = call("GET", f"{url}/metrics").body.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _client(url: str, key: str = SECRET_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_metrics_count_requests_statuses_and_tokens(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY)) as (url, _), _client(url) as client:
        prompt = completion = 0
        for _ in range(3):
            answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
            assert answer.usage is not None
            prompt += answer.usage.prompt_tokens
            completion += answer.usage.completion_tokens
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Repeat after me: one two three"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        (usage,) = [chunk.usage for chunk in stream if chunk.usage is not None]
        prompt += usage.prompt_tokens
        completion += usage.completion_tokens
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], temperature=-1)
        embedded = client.embeddings.create(model=EMBEDDER, input=["a few words to embed"])
        assert call("GET", f"{url}/v1/models/{MODEL}", headers={"Authorization": f"Bearer {SECRET_KEY}"}).status == 200
        samples = _samples(url)

    def requests(route: str, model: str, status: str) -> float:
        labels = (("model", model), ("route", route), ("status", status))
        return samples.get(("gateway_requests_total", labels), 0)

    assert requests("/v1/chat/completions", MODEL, "200") == 4
    assert requests("/v1/chat/completions", MODEL, "400") + requests("/v1/chat/completions", "", "400") == 1
    assert requests("/v1/embeddings", EMBEDDER, "200") == 1
    assert requests("/v1/models/{model_id}", "", "200") == 1  # FastAPI's routes by their template: few labels
    assert samples[("gateway_tokens_total", (("kind", "prompt"), ("model", MODEL)))] == prompt
    assert samples[("gateway_tokens_total", (("kind", "completion"), ("model", MODEL)))] == completion
    assert samples[("gateway_tokens_total", (("kind", "prompt"), ("model", EMBEDDER)))] == embedded.usage.prompt_tokens


def test_every_model_route_names_its_model_in_the_request_counter(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY)) as (url, _), _client(url) as client:
        client.responses.create(model=MODEL, input="Hi")
        client.images.generate(model="@cf/black-forest-labs/flux-1-schnell", prompt="a red cube", n=1)
        headers = {"Authorization": f"Bearer {SECRET_KEY}", "anthropic-version": "2023-06-01"}
        message = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
        assert call("POST", f"{url}/v1/messages", message, headers=headers).status == 200
        samples = _samples(url)
    counted = {
        dict(labels)["route"]: dict(labels)["model"] for (name, labels) in samples if name == "gateway_requests_total"
    }
    assert counted["/v1/responses"] == MODEL
    assert counted["/v1/images/generations"] == "@cf/black-forest-labs/flux-1-schnell"
    assert counted["/v1/messages"] == MODEL


def test_responses_and_messages_count_their_tokens_and_upstream_time(upstream: Emulator) -> None:
    """The Responses and Messages APIs run on the chat path, and are counted as chat is: their tokens in
    gateway_tokens_total and their upstream time in the request line, whole and streamed."""
    env = managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY)
    with gateway(env) as (url, log), _client(url) as client:
        whole = client.responses.create(model=MODEL, input="Hi")
        with client.responses.stream(model=MODEL, input="Repeat after me: one two three") as events:
            streamed = events.get_final_response()
        with anthropic.Anthropic(base_url=url, api_key=SECRET_KEY, max_retries=0) as claude:
            message = claude.messages.create(model=MODEL, max_tokens=32, messages=[{"role": "user", "content": "Hi"}])
            with claude.messages.stream(
                model=MODEL, max_tokens=32, messages=[{"role": "user", "content": "Say one two three"}]
            ) as stream:
                told = stream.get_final_message()
        samples = _samples(url)
    answers = [(a.usage.input_tokens, a.usage.output_tokens) for a in (whole, streamed, message, told) if a.usage]
    assert len(answers) == 4 and all(prompt > 0 and completion > 0 for prompt, completion in answers)
    assert samples[("gateway_tokens_total", (("kind", "prompt"), ("model", MODEL)))] == sum(p for p, _ in answers)
    assert samples[("gateway_tokens_total", (("kind", "completion"), ("model", MODEL)))] == sum(c for _, c in answers)
    lines = [line for line in log.read_text().splitlines() if "/v1/responses 200" in line or "/v1/messages 200" in line]
    assert len(lines) == 4
    for line in lines:
        assert re.search(r" upstream=\d+\.\dms tokens=[1-9]\d*\+[1-9]\d* ", line), line


def test_request_ids_round_trip_on_json_streams_and_errors(upstream: Emulator) -> None:
    env = managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY)
    with gateway(env) as (url, log), _client(url) as client:
        messages = [{"role": "user", "content": "Hi"}]
        given = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=messages, extra_headers={"X-Request-ID": "trace-42/a:b=c"}
        )
        assert given.headers["x-request-id"] == "trace-42/a:b=c"
        made = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        assert GENERATED_ID.fullmatch(made.headers["x-request-id"])
        with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=messages, stream=True, extra_headers={"X-Request-ID": "stream-7"}
        ) as streamed:
            assert streamed.headers["x-request-id"] == "stream-7"
            assert [line for line in streamed.iter_lines() if line][-1] == "data: [DONE]"
        with _client(url, key="wrong") as stranger, pytest.raises(openai.AuthenticationError) as refused:
            stranger.chat.completions.create(model=MODEL, messages=messages, extra_headers={"X-Request-ID": "err-1"})
        assert refused.value.response.headers["x-request-id"] == "err-1"
        insane = call("GET", f"{url}/healthz", headers={"X-Request-ID": 'has spaces, "quotes"' + "x" * 200})
        assert insane.status == 200 and GENERATED_ID.fullmatch(insane.headers["x-request-id"])
        unknown = call("GET", f"{url}/no/such/route", headers={"X-Request-ID": "missing-1"})
        assert unknown.status == 404 and unknown.headers["x-request-id"] == "missing-1"
    text = log.read_text()
    for request_id in ("trace-42/a:b=c", made.headers["x-request-id"], "stream-7", "err-1", "missing-1"):
        assert f"id={request_id}\n" in text


def _serve_secrets(upstream: Emulator, **settings: str) -> str:
    """A gateway's whole log after requests carrying a recognisable key and prompt (good, refused, streamed,
    invalid)."""
    with gateway(managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY, **settings)) as (url, log):
        messages = [{"role": "user", "content": f"Repeat after me: {PROMPT}"}]
        with _client(url) as client:
            client.chat.completions.create(model=MODEL, messages=messages)
            streamed = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == PROMPT
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(model=MODEL, messages=messages, temperature=-1)
        with _client(url, key=f"{SECRET_KEY}-wrong") as stranger, pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model=MODEL, messages=messages)
        time.sleep(0.3)  # request lines are written in batches, at most 0.1 s late
        return log.read_text()


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_logs_hold_no_key_token_or_prompt(upstream: Emulator, log_format: str) -> None:
    text = _serve_secrets(upstream, LOG_FORMAT=log_format)
    for secret in (SECRET_KEY, CF_TOKEN, PROMPT, "Bearer"):
        assert secret not in text
    assert text.count("/v1/chat/completions") == 4  # one line per request, errors included
    if log_format == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        requests = [line for line in lines if line["logger"] == "app.requests"]
        chats = [line for line in requests if line["route"] == "/v1/chat/completions"]
        assert [line["status"] for line in chats] == [200, 200, 400, 401]
        fields = {"time", "level", "request_id", "method", "route", "model", "status", "duration_ms", "upstream_ms"}
        assert all(fields <= set(line) for line in requests)
        assert chats[0]["model"] == MODEL and chats[0]["upstream_ms"] > 0 and chats[0]["completion_tokens"] > 0
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines if line not in requests)


def _request_lines(log: Path, route: str) -> list[str]:
    time.sleep(0.3)  # request lines are written in batches, at most 0.1 s late
    return [line for line in log.read_text().splitlines() if f" {route} " in line or f'"route":"{route}"' in line]


def test_request_lines_name_the_account_masked(upstream: Emulator) -> None:
    """Managed with one account, passthrough (the client's account) and a pool that failed over: each line
    names the account its call ran on, as the first and last four characters only."""
    other = "fedcba9876543210fedcba9876543210"
    messages = [{"role": "user", "content": "Hi"}]
    with gateway(managed_env(upstream.api_base, GATEWAY_API_KEYS=SECRET_KEY)) as (url, log), _client(url) as client:
        client.chat.completions.create(model=MODEL, messages=messages)
        list(client.chat.completions.create(model=MODEL, messages=messages, stream=True))
        managed = _request_lines(log, "/v1/chat/completions")
    assert len(managed) == 2 and all(" account=0123…cdef " in line for line in managed)
    passthrough = {"CF_API_BASE": upstream.api_base}
    with gateway(passthrough) as (url, log), _client(url, key=f"{other}:{CF_TOKEN}") as client:
        client.chat.completions.create(model=MODEL, messages=messages)
        (line,) = _request_lines(log, "/v1/chat/completions")
    assert " account=fedc…3210 " in line
    accounts = f"{ACCOUNT}:{CF_TOKEN},{other}:{CF_TOKEN}"
    env = managed_env(upstream.api_base, CF_ACCOUNTS=accounts, GATEWAY_API_KEYS=SECRET_KEY, LOG_FORMAT="json")
    with gateway(env) as (url, log), _client(url) as client:
        upstream.reset()  # count this gateway's calls only
        upstream.fault(account=ACCOUNT, code=3040, times=10)  # capacity: each call there moves to the other
        for _ in range(4):
            client.chat.completions.create(model=MODEL, messages=messages)
        lines = [json.loads(line) for line in _request_lines(log, "/v1/chat/completions")]
        samples = _samples(url)
    called = [r["path"].split("/")[4] for r in upstream.requests() if "/ai/run/" in r["path"]]
    moved = called.count(ACCOUNT)
    assert moved >= 1 and called.count(other) == 4  # the pool spreads calls, so some started on the first
    assert [line["account"] for line in lines] == ["fedc…3210"] * 4
    retries = sum(n for (name, _), n in samples.items() if name == "gateway_upstream_retries_total")
    assert retries == moved and samples[("gateway_account_failovers_total", (("model", MODEL),))] == moved
    assert ACCOUNT not in log.read_text() and other not in log.read_text()


def test_log_prompts_is_what_lets_a_prompt_into_the_log(upstream: Emulator, tmp_path: Path) -> None:
    text = _serve_secrets(upstream, LOG_PROMPTS="true")
    assert PROMPT in text
    assert SECRET_KEY not in text and CF_TOKEN not in text


def test_log_requests_off_writes_no_request_line_but_still_counts(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, LOG_REQUESTS="false")) as (url, log):
        assert call("GET", f"{url}/healthz").status == 200
        samples = _samples(url)
        time.sleep(0.3)
        text = log.read_text()
    assert "app.requests" not in text
    assert samples[("gateway_requests_total", (("model", ""), ("route", "/healthz"), ("status", "200")))] == 1

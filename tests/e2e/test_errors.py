"""Every failure a client can meet: OpenAI's error shape, the right status, nothing lost, nothing leaked."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import openai
import pytest

from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator, free_port, gateway

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
AUTH = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}


def chat(url: str, body: bytes | dict[str, object] = CHAT, headers: dict[str, str] = AUTH) -> Answer:
    return call("POST", f"{url}/v1/chat/completions", body, headers)


@pytest.mark.parametrize(
    ("code", "status", "error_type", "error_code"),
    [
        (5006, 400, "invalid_request_error", "invalid_request"),
        (5004, 400, "invalid_request_error", "invalid_request"),
        (3030, 400, "invalid_request_error", "context_length_exceeded"),
        (5007, 400, "invalid_request_error", "model_not_found"),
        (5016, 403, "invalid_request_error", "model_terms_not_accepted"),
        (5018, 403, "invalid_request_error", "model_access_denied"),
        (3041, 403, "invalid_request_error", "model_access_denied"),
        (3023, 403, "invalid_request_error", "account_blocked"),
        (5035, 403, "invalid_request_error", "paid_plan_required"),
        (3042, 404, "invalid_request_error", "model_not_found"),
        (7003, 404, "invalid_request_error", "upstream_route_not_found"),
        (3006, 413, "invalid_request_error", "request_too_large"),
        (3007, 504, "upstream_error", "upstream_timeout"),
        (3008, 408, "upstream_error", "upstream_aborted"),
        (4006, 429, "requests", "daily_limit_exceeded"),
        (3036, 429, "requests", "daily_limit_exceeded"),
        (3040, 429, "requests", "rate_limit_exceeded"),
        (8005, 502, "upstream_error", "upstream_error"),
    ],
)
def test_workers_ai_codes_map_to_openai_errors(
    gateway_url: str, upstream: Emulator, code: int, status: int, error_type: str, error_code: str
) -> None:
    upstream.fault(code=code, message=f"AiError: AiError: injected {code} (5a2b9c3d-1111-2222-3333-444455556666)")
    answer = chat(gateway_url)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    error = answer.error
    assert (error["type"], error["code"]) == (error_type, error_code)
    assert f"injected {code}" in error["message"] and "5a2b9c3d" not in error["message"]
    if status == 429:
        assert int(answer.headers["retry-after"]) >= 1


def test_quota_429_through_the_sdk_is_a_rate_limit_error(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(code=4006, status=429, message="AiError: you have used up your daily free allocation")
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.code == "daily_limit_exceeded"
    assert raised.value.type != "insufficient_quota"


def test_http_200_with_success_false(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(code=3040, success_false_200=True, message="Capacity temporarily exceeded")
    answer = chat(gateway_url)
    assert answer.status == 429 and "Capacity temporarily exceeded" in answer.error["message"]


def test_non_json_upstream_body(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(status=502, non_json=True)
    answer = chat(gateway_url)
    assert answer.status == 502 and answer.error["code"] == "upstream_bad_response"


def test_error_without_a_code_uses_the_http_status(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(status=429, no_code=True, message="slow down")
    assert chat(gateway_url).status == 429


def test_upstream_error_before_the_stream_starts_is_a_real_http_error(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(code=5006, message="AiError: Bad input: nope")
    answer = chat(gateway_url, {**CHAT, "stream": True})
    assert answer.status == 400 and answer.headers["content-type"] == "application/json"
    assert "Bad input: nope" in answer.error["message"]


def test_stream_cut_midway_is_reported_in_band(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(cut_stream_after=2)
    body = {**CHAT, "stream": True, "messages": [{"role": "user", "content": "Repeat after me: a b c d e f"}]}
    answer = chat(gateway_url, body)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    events = [e for e in answer.body.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert '"error"' in events[-2] and "ended the stream before it finished" in events[-2]
    assert events[-1] == "data: [DONE]"


def test_in_band_error_raises_in_the_sdk(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(cut_stream_after=1)
    stream = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "Repeat after me: a b c"}], stream=True
    )
    with pytest.raises(openai.APIError, match="ended the stream"):
        list(stream)


def test_malformed_event_is_skipped(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(malformed_event_after=1)
    chunks = list(
        client.chat.completions.create(
            model=LLAMA, messages=[{"role": "user", "content": "Repeat after me: a b c"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a b c"


# --- bad input from clients -------------------------------------------------------------------------------


def test_malformed_json(gateway_url: str, upstream: Emulator) -> None:
    answer = chat(gateway_url, b'{"model": "x", "messages": [')
    assert answer.status == 400 and answer.error["code"] == "invalid_json"
    assert upstream.requests() == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": LLAMA, "messages": "hello"}, "messages"),
        ({"model": LLAMA, "messages": []}, "messages"),
        ({"model": LLAMA, "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": LLAMA, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({**CHAT, "temperature": "hot"}, "temperature"),
        ({**CHAT, "max_tokens": 0}, "max_tokens"),
        ({**CHAT, "n": 50}, "n"),
        ({**CHAT, "stream": "yes please"}, "stream"),
        ({"messages": CHAT["messages"]}, "model"),
        ({**CHAT, "tools": [{"type": "function"}]}, "tools[0].function"),
    ],
)
def test_wrong_types_are_400_naming_the_parameter(
    gateway_url: str, upstream: Emulator, body: dict[str, object], param: str
) -> None:
    answer = chat(gateway_url, body)
    assert answer.status == 400
    assert answer.error["param"] == param and answer.error["type"] == "invalid_request_error"
    assert upstream.requests() == []


def test_body_that_is_not_an_object(gateway_url: str) -> None:
    answer = chat(gateway_url, b"[1, 2]")
    assert answer.status == 400 and answer.error["code"] == "invalid_request_body"


def test_unknown_model_is_404(gateway_url: str, upstream: Emulator) -> None:
    answer = chat(gateway_url, {**CHAT, "model": "gpt-9-ultra"})
    assert answer.status == 404 and answer.error["code"] == "model_not_found" and answer.error["param"] == "model"
    assert upstream.requests() == []


@pytest.mark.parametrize(
    "model",
    [
        "@cf/../../tokens/verify",
        "@cf/meta/llama?x=1",
        "@cf/meta/llama#x",
        "@cf/meta/llama%2F..%2F..",
        "@cf/meta/llama/../../../zones",
        "@cf/meta/ llama",
        "@hf/a/b\r\nHost: evil",
    ],
)
def test_hostile_model_ids_never_reach_cloudflare(gateway_url: str, upstream: Emulator, model: str) -> None:
    answer = chat(gateway_url, {**CHAT, "model": model})
    assert answer.status == 400 and answer.error["code"] == "invalid_model"
    assert upstream.requests() == []


def test_embedding_model_through_chat_is_a_clear_400(gateway_url: str) -> None:
    # (A text-to-image model through chat draws a picture: tests/e2e/test_image_chat.py.)
    answer = chat(gateway_url, {**CHAT, "model": "@cf/baai/bge-m3"})
    assert answer.status == 400 and "Text Embeddings" in answer.error["message"]


def test_oversize_body_is_413(gateway_url: str, upstream: Emulator) -> None:
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2_100_000}]}
    answer = chat(gateway_url, big)
    assert answer.status == 413 and answer.error["code"] == "request_too_large"
    assert upstream.requests() == []


def _chunked_post(gateway_url: str, pieces: list[bytes], pause: float = 0.0) -> tuple[int, bytes]:
    """POST with `Transfer-Encoding: chunked` (no Content-Length to refuse it by), one chunk a piece,
    `pause` seconds apart (so the server gets them in separate reads)."""

    def paced() -> Iterator[bytes]:
        for index, piece in enumerate(pieces):
            if index and pause:
                time.sleep(pause)
            yield piece

    parts = urlsplit(gateway_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", "/v1/chat/completions", paced(), AUTH, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_oversize_body_without_a_length_is_413_as_it_arrives(gateway_url: str, upstream: Emulator) -> None:
    head = b'{"model":"%s","messages":[{"role":"user","content":"' % LLAMA.encode()
    status, body = _chunked_post(gateway_url, [head] + [b"x" * 500_000] * 5 + [b'"}]}'])
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    assert upstream.requests() == []


def test_body_in_several_chunks_is_read_whole(gateway_url: str) -> None:
    raw = json.dumps({**CHAT, "messages": [{"role": "user", "content": "Repeat after me: in pieces"}]}).encode()
    thirds = [raw[: len(raw) // 3], raw[len(raw) // 3 : 2 * len(raw) // 3], raw[2 * len(raw) // 3 :]]
    status, body = _chunked_post(gateway_url, thirds, pause=0.05)
    assert status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "in pieces"


def test_unknown_route_and_wrong_method(gateway_url: str) -> None:
    missing = call("GET", f"{gateway_url}/v1/nope", headers=AUTH)
    assert missing.status == 404 and missing.headers["content-type"] == "application/json"
    assert missing.error["code"] == "unknown_url"
    wrong = call("GET", f"{gateway_url}/v1/chat/completions", headers=AUTH)
    assert wrong.status == 405 and wrong.error["code"] == "method_not_allowed"


def test_cors_preflight_from_a_browser_extension(gateway_url: str) -> None:
    answer = call(
        "OPTIONS",
        f"{gateway_url}/v1/chat/completions",
        headers={
            "Origin": "chrome-extension://bpoadfkcbjbfhfodiogcnhhhpibjhbnh",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] in ("*", "chrome-extension://bpoadfkcbjbfhfodiogcnhhhpibjhbnh")
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()


# --- keys and modes ---------------------------------------------------------------------------------------


def test_missing_and_wrong_keys_are_401_invalid_api_key(gateway_url: str, upstream: Emulator) -> None:
    for headers in (
        {"Content-Type": "application/json"},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {TEST_KEY}"},
    ):
        answer = chat(gateway_url, headers=headers)
        assert answer.status == 401
        assert (answer.error["type"], answer.error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert upstream.requests() == []


def test_any_configured_key_is_accepted(gateway_url: str) -> None:
    assert chat(gateway_url, headers={"Authorization": "Bearer other-key"}).status == 200


def test_keys_and_tokens_never_reach_the_log(managed: tuple[str, Path]) -> None:
    url, log = managed
    chat(url, headers={"Authorization": "Bearer wrong-secret-value"})
    text = log.read_text()
    assert TEST_KEY not in text and CF_TOKEN not in text and "wrong-secret-value" not in text


@pytest.fixture(scope="module")
def passthrough(upstream: Emulator) -> Iterator[str]:
    with gateway({"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": ACCOUNT}) as (url, _):
        yield url


def test_passthrough_uses_the_clients_token(passthrough: str, upstream: Emulator) -> None:
    assert chat(passthrough, headers={"Authorization": f"Bearer {CF_TOKEN}"}).status == 200
    assert f"/accounts/{ACCOUNT}/" in upstream.requests()[-1]["path"]
    other = "fedcba9876543210fedcba9876543210"
    assert chat(passthrough, headers={"Authorization": f"Bearer {other}:{CF_TOKEN}"}).status == 200
    assert f"/accounts/{other}/" in upstream.requests()[-1]["path"]


def test_passthrough_rejected_token_is_the_clients_401(passthrough: str) -> None:
    answer = chat(passthrough, headers={"Authorization": "Bearer not-a-cloudflare-token"})
    assert answer.status == 401 and answer.error["code"] == "invalid_api_key"
    assert chat(passthrough, headers={}).status == 401


def test_passthrough_refuses_a_hostile_account_id(passthrough: str, upstream: Emulator) -> None:
    answer = chat(passthrough, headers={"Authorization": f"Bearer ../../zones:{CF_TOKEN}"})
    assert answer.status == 401 and upstream.requests() == []


def test_rejected_server_token_is_a_5xx_for_the_operator_never_401(upstream: Emulator) -> None:
    env = {"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": ACCOUNT, "CF_API_TOKEN": "revoked-token"}
    with gateway(env) as (url, log):
        answer = chat(url, headers={"Content-Type": "application/json"})
        # The start-up check found the token rejected: a 503 naming the setting (502 had it been the first call).
        assert answer.status == 503 and answer.error["code"] == "no_usable_account"
        assert "CF_API_TOKEN" in answer.error["message"]
        assert "revoked-token" not in log.read_text()
        assert "GATEWAY_API_KEYS is empty" in log.read_text()


def test_upstream_timeout_and_unreachable_upstream(upstream: Emulator) -> None:
    env = {
        "CF_API_BASE": upstream.api_base,
        "CF_ACCOUNT_ID": ACCOUNT,
        "CF_API_TOKEN": CF_TOKEN,
        "UPSTREAM_TIMEOUT": "0.5",
    }
    with gateway(env) as (url, _):
        upstream.fault(latency_ms=1500)
        answer = chat(url, headers={})
        assert answer.status == 504 and answer.error["code"] == "upstream_timeout"
    dead = {**env, "CF_API_BASE": f"http://127.0.0.1:{free_port()}/client/v4"}
    with gateway(dead) as (url, _):
        answer = chat(url, headers={})
        assert answer.status == 502 and answer.error["code"] == "upstream_unreachable"


@pytest.mark.parametrize("extra", [{"echo": True}, {"suffix": "end"}])
def test_unsupported_legacy_completion_options_are_refused(
    gateway_url: str, upstream: Emulator, extra: dict[str, object]
) -> None:
    body = {"model": LLAMA, "prompt": "hi", **extra}
    answer = call("POST", f"{gateway_url}/v1/completions", body, AUTH)
    assert answer.status == 400 and answer.error["param"] == next(iter(extra))
    assert upstream.requests() == []

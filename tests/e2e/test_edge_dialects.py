"""Every edge error in the dialect of the route it was aimed at: OpenAI's, Anthropic's, DeepL's, DeepLX's.

The edge answers some requests before any handler runs (a head too large or too slow, a body too large or
too slow, an unknown path, a wrong method, a browser's CORS preflight) and others from the caller (a wrong
key, a key over its limit).
Each dialect's clients parse only their own shape, so each of those answers is checked on one route of each.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import deepl
import pytest

from tests.http import call
from tests.servers import Emulator, gateway, managed_env

TIMEOUT = 1.0
MAX_BODY = 1_000_000
MAX_HEAD = 16 * 1024
KEY = "edge-key"
LIMITED = {"openai": "openai-rpm-key", "anthropic": "anthropic-rpm-key", "deepl": "deepl-rpm-key", "deeplx": "dx-key"}
LIBRARY_KEY = "deepl-library-key"
PAGE = "https://app.example"  # the one origin CORS_ORIGINS allows
LLAMA = "@cf/meta/llama-3.1-8b-instruct"
# Per dialect: the route aimed at, how its clients present the key, a valid body, and a path under its prefix.
ROUTES: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "openai": (
        "/v1/chat/completions",
        "Authorization: Bearer {key}",
        {"model": LLAMA, "messages": [{"role": "user", "content": "Say hello"}]},
        "/v1/no-such-route",
    ),
    "anthropic": (
        "/v1/messages",
        "x-api-key: {key}",
        {"model": LLAMA, "max_tokens": 16, "messages": [{"role": "user", "content": "Say hello"}]},
        "/v1/messages/no-such-route",
    ),
    "deepl": (
        "/v2/translate",
        "Authorization: DeepL-Auth-Key {key}",
        {"text": ["Hi"], "target_lang": "DE"},
        "/v2/nope",
    ),
    # DeepLX's clients put the key in the URL; the header is only a bystander.
    "deeplx": (
        "/translate?token={key}",
        "X-Client: deeplx {key}",
        {"text": "Hi", "target_lang": "DE"},
        "/translate/nope",
    ),
}
# Anthropic's documented error types (docs.anthropic.com, "Errors").
ANTHROPIC_TYPES = {
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
}
ANSWER = re.compile(rb"^HTTP/1\.1 (\d{3}) [^\r\n]*\r\n(.*?)\r\n\r\n", re.S)


@pytest.fixture(scope="module")
def served(upstream: Emulator) -> Iterator[str]:
    env = managed_env(
        upstream.api_base,
        GATEWAY_API_KEYS=",".join([KEY, LIBRARY_KEY, *LIMITED.values()]),
        GATEWAY_KEY_RPM="1",
        MAX_BODY_BYTES=str(MAX_BODY),
        HEADER_TIMEOUT=str(TIMEOUT),
        BODY_TIMEOUT=str(TIMEOUT),
        MAX_HEADER_BYTES=str(MAX_HEAD),
        CORS_ORIGINS=PAGE,
    )
    with gateway(env) as (url, _):
        yield url


def assert_dialect(dialect: str, status: int, body: Any) -> None:
    """The error body each dialect's clients parse."""
    if dialect == "openai":
        assert list(body) == ["error"] and set(body["error"]) == {"message", "type", "param", "code"}, body
    elif dialect == "anthropic":
        assert set(body) == {"type", "error"} and body["type"] == "error", body
        assert set(body["error"]) == {"type", "message"} and body["error"]["type"] in ANTHROPIC_TYPES, body
    elif dialect == "deepl":
        assert set(body) == {"message"} and isinstance(body["message"], str), body
    else:
        assert set(body) == {"code", "message"} and body["code"] == status, body


def raw(url: str, data: bytes, wait: float = 30) -> tuple[int, dict[str, Any]]:
    """One answer read off a socket by its content-length (a connection that lingers is not waited for)."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        got = b""
        while (match := ANSWER.match(got)) is None or len(got) < match.end() + _length(match[2]):
            chunk = sock.recv(65536)
            assert chunk, got
            got += chunk
    return int(match[1]), json.loads(got[match.end() :])


def _length(head: bytes) -> int:
    found = re.search(rb"(?i)content-length: (\d+)", head)
    assert found, head
    return int(found[1])


def _head(dialect: str, *extra: str, length: int | None = None, key: str = KEY) -> bytes:
    path, presented, _, _ = ROUTES[dialect]
    lines = [f"POST {path.format(key=key)} HTTP/1.1", "Host: x", presented.format(key=key), *extra]
    lines += ["Content-Type: application/json"] + ([f"Content-Length: {length}"] if length is not None else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


DIALECTS = list(ROUTES)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_head_too_large_is_a_431(served: str, dialect: str) -> None:
    status, body = raw(served, _head(dialect, "X-Big: " + "a" * 40_000, length=2) + b"{}")
    assert status == 431
    assert_dialect(dialect, status, body)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_head_too_slow_is_a_408(served: str, dialect: str) -> None:
    started = time.monotonic()
    status, body = raw(served, _head(dialect)[:-2])  # the head's blank line never comes
    assert status == 408 and time.monotonic() - started >= TIMEOUT * 0.9
    assert_dialect(dialect, status, body)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_body_that_stops_is_a_408(served: str, dialect: str) -> None:
    status, body = raw(served, _head(dialect, length=100) + b'{"te')
    assert status == 408
    assert_dialect(dialect, status, body)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_body_too_large_is_a_413(served: str, dialect: str) -> None:
    status, body = raw(served, _head(dialect, length=MAX_BODY + 1))
    assert status == 413
    assert_dialect(dialect, status, body)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_missing_or_wrong_key_is_refused(served: str, dialect: str) -> None:
    path, presented, body, _ = ROUTES[dialect]
    for key in ("wrong-key", ""):
        name, value = presented.format(key=key).split(": ", 1)
        answer = call("POST", served + path.format(key=key), body, {name: value, "Content-Type": "application/json"})
        assert answer.status == (403 if dialect == "deepl" else 401)  # DeepL's API refuses a key with a 403
        assert_dialect(dialect, answer.status, answer.json())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_unknown_route_and_a_wrong_method(served: str, dialect: str) -> None:
    path, _, _, unknown = ROUTES[dialect]
    missing = call("POST", served + unknown, b"{}", {"Content-Type": "application/json"})
    assert missing.status == 404
    assert_dialect(dialect, 404, missing.json())
    wrong = call("GET", served + path.format(key=KEY))
    assert wrong.status == 405
    assert_dialect(dialect, 405, wrong.json())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_key_over_its_limit_is_a_429(served: str, dialect: str) -> None:
    path, presented, body, _ = ROUTES[dialect]
    key = LIMITED[dialect]
    name, value = presented.format(key=key).split(": ", 1)
    answers = [
        call("POST", served + path.format(key=key), body, {name: value, "Content-Type": "application/json"})
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [200, 429] and int(answers[1].headers["retry-after"]) > 0
    assert_dialect(dialect, 429, answers[1].json())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_cors_preflight_and_the_answer_a_page_reads(served: str, dialect: str) -> None:
    path, presented, body, unknown = ROUTES[dialect]
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-api-key"}
    preflight = call("OPTIONS", served + path.format(key=KEY), headers={"Origin": PAGE, **asked})
    assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == PAGE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "authorization,x-api-key"
    refused = call("OPTIONS", served + path.format(key=KEY), headers={"Origin": "https://evil.example", **asked})
    assert refused.status == 400 and "access-control-allow-origin" not in refused.headers
    assert_dialect(dialect, 400, refused.json())
    # A page reads the answers, errors too: each carries the origin and the headers it may read.
    name, value = presented.format(key="wrong").split(": ", 1)
    for answer in (
        call("POST", served + path.format(key="wrong"), body, {name: value, "Origin": PAGE}),
        call("GET", served + unknown, headers={"Origin": PAGE}),
    ):
        assert answer.status in (401, 403, 404) and answer.headers["access-control-allow-origin"] == PAGE
        assert "Retry-After" in answer.headers["access-control-expose-headers"]
        assert_dialect(dialect, answer.status, answer.json())


def test_the_deepl_library_raises_its_own_exceptions(served: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)  # every error seen at once
    wrong = deepl.Translator("wrong-key", server_url=served, send_platform_info=False)
    with pytest.raises(deepl.AuthorizationException):
        wrong.translate_text("Hi", target_lang="DE")
    translator = deepl.Translator(KEY, server_url=served, send_platform_info=False)
    with pytest.raises(deepl.DeepLException) as too_large:
        translator.translate_text("a" * (MAX_BODY + 10), target_lang="DE")
    assert too_large.value.http_status_code == 413
    assert "Request Entity Too Large" in str(too_large.value) and '"message"' in str(too_large.value)
    limited = deepl.Translator(LIBRARY_KEY, server_url=served, send_platform_info=False)
    assert limited.translate_text("Hi", target_lang="DE").text  # the key's one call this minute
    with pytest.raises(deepl.TooManyRequestsException):
        limited.translate_text("Hi", target_lang="DE")

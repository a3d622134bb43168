"""A key's limits and pin hold on every route that takes a key, each refusal in the route's own dialect.

Each route is called as its clients call it, presenting the key their way: the openai and anthropic
packages (Bearer, x-api-key), DeepLX's `?token=`, DeepL's `Authorization: DeepL-Auth-Key`, Immersive
Translate's batch API with `?password=`. Every route has its own key, so one gateway serves them all.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import CF_TOKEN
from tests.http import call
from tests.samples import wav
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
FLUX = "@cf/black-forest-labs/flux-1-schnell"  # 57.6 neurons a picture
A, B = "acct-alpha-0001", "acct-bravo-0002"
JSON = {"Content-Type": "application/json"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # the error's JSON; None for a success


def _fresh(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"  # never a translation cache hit


def _openai(run: Callable[[openai.OpenAI], object]) -> Callable[[str, str], Reply]:
    def send(url: str, key: str) -> Reply:
        with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as client:
            try:
                run(client)
            except openai.APIStatusError as error:
                return Reply(error.status_code, dict(error.response.headers), error.response.json())
        return Reply(200, {}, None)

    return send


def _messages(url: str, key: str) -> Reply:
    with anthropic.Anthropic(base_url=url, api_key=key, max_retries=0) as client:
        try:
            client.messages.create(model=LLAMA, max_tokens=16, messages=[{"role": "user", "content": "Say hello"}])
        except anthropic.APIStatusError as error:
            return Reply(error.status_code, dict(error.response.headers), error.response.json())
    return Reply(200, {}, None)


def _plain(path: str, body: Callable[[], dict[str, Any]], headers: Callable[[str], dict[str, str]]) -> Callable:
    def send(url: str, key: str) -> Reply:
        query = path.format(key=key)
        answer = call("POST", f"{url}{query}", json.dumps(body()).encode(), JSON | headers(key))
        return Reply(answer.status, answer.headers, None if answer.status == 200 else answer.json())

    return send


HELLO = [{"role": "user", "content": "Say hello"}]
ROUTES: dict[str, tuple[str, Callable[[str, str], Reply]]] = {
    "chat": ("openai", _openai(lambda c: c.chat.completions.create(model=LLAMA, messages=HELLO))),
    "completions": ("openai", _openai(lambda c: c.completions.create(model=LLAMA, prompt="Say hello"))),
    "embeddings": ("openai", _openai(lambda c: c.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input="hi"))),
    "images": ("openai", _openai(lambda c: c.images.generate(model=FLUX, prompt="a lighthouse at dusk"))),
    "transcriptions": (
        "openai",
        _openai(lambda c: c.audio.transcriptions.create(file=("a.wav", wav("hi"), "audio/wav"), model="whisper-1")),
    ),
    "speech": ("openai", _openai(lambda c: c.audio.speech.create(model="tts-1", voice="alloy", input="Hello"))),
    "responses": ("openai", _openai(lambda c: c.responses.create(model=LLAMA, input="Say hello"))),
    "messages": ("anthropic", _messages),
    "deeplx": (
        "deeplx",
        _plain("/translate?token={key}", lambda: {"text": _fresh("Hello world"), "target_lang": "DE"}, lambda k: {}),
    ),
    "deepl": (
        "deepl",
        _plain(
            "/v2/translate",
            lambda: {"text": [_fresh("Hello world")], "target_lang": "DE"},
            lambda k: {"Authorization": f"DeepL-Auth-Key {k}"},
        ),
    ),
    "batch": (
        "deeplx",
        _plain(
            "/translate/batch?password={key}",
            lambda: {"source_lang": "auto", "target_lang": "de", "text_list": [_fresh("Hello world")]},
            lambda k: {},
        ),
    ),
}
KEYS = {name: f"key-for-{name}" for name in ROUTES}


def _env(upstream: Emulator, **settings: str) -> dict[str, str]:
    accounts = f"{A}:{CF_TOKEN},{B}:{CF_TOKEN}"
    return managed_env(upstream.api_base, CF_ACCOUNTS=accounts, GATEWAY_API_KEYS=",".join(KEYS.values()), **settings)


@pytest.fixture(scope="module")
def limited(upstream: Emulator) -> Iterator[str]:
    with gateway(_env(upstream, GATEWAY_KEY_RPM="2")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def pinned(upstream: Emulator) -> Iterator[str]:
    with gateway(_env(upstream, ACCOUNT_KEY_PINS=json.dumps(dict.fromkeys(KEYS.values(), B)))) as (url, _):
        yield url


@pytest.fixture(scope="module")
def frugal(upstream: Emulator) -> Iterator[str]:
    with gateway(_env(upstream, GATEWAY_KEY_NEURONS_PER_DAY="50")) as (url, _):
        yield url


def _is_refusal(dialect: str, reply: Reply, status: int, code: str) -> None:
    """A refusal as the route's clients parse it, with the time to wait."""
    assert reply.status == status, reply
    assert int(reply.headers["retry-after"]) > 0
    body = reply.body
    if dialect == "openai":
        assert list(body) == ["error"] and set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["code"] == code
    elif dialect == "anthropic":
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
        assert body["error"]["type"] == "rate_limit_error"
    elif dialect == "deepl":
        assert set(body) == {"message"}
    else:
        assert body == {"code": status, "message": body["message"]}
    message = json.dumps(body)
    assert ("GATEWAY_KEY_RPM" if code == "rate_limit_exceeded" else "GATEWAY_KEY_NEURONS_PER_DAY") in message


def _runs(upstream: Emulator) -> list[str]:
    """The account of each run call that reached the emulator."""
    return [r["path"].split("/")[4] for r in upstream.requests() if "/ai/run/" in r["path"]]


@pytest.mark.parametrize("route", ROUTES)
def test_the_third_call_a_minute_is_refused(route: str, limited: str, upstream: Emulator) -> None:
    dialect, send = ROUTES[route]
    assert [send(limited, KEYS[route]).status for _ in range(2)] == [200, 200]
    runs = len(_runs(upstream))
    _is_refusal(dialect, send(limited, KEYS[route]), 429, "rate_limit_exceeded")
    assert len(_runs(upstream)) == runs  # the refused call never reached Workers AI


@pytest.mark.parametrize("route", ROUTES)
def test_a_pinned_key_runs_on_its_account(route: str, pinned: str, upstream: Emulator) -> None:
    _, send = ROUTES[route]
    assert [send(pinned, KEYS[route]).status for _ in range(2)] == [200, 200]
    runs = _runs(upstream)
    assert runs and set(runs) == {B}  # round robin would have used A for one of them


@pytest.mark.parametrize("route", ROUTES)
def test_a_key_past_its_neurons_is_refused(route: str, frugal: str, upstream: Emulator) -> None:
    dialect, send = ROUTES[route]
    spend = ROUTES["images"][1]
    assert spend(frugal, KEYS[route]).status == 200  # 57.6 neurons, over the key's 50 for today
    time.sleep(0.2)  # the key's count is written just after the answer
    reply = send(frugal, KEYS[route])
    # DeepL's clients know a used-up allowance as 456 (the library's QuotaExceededException).
    _is_refusal(dialect, reply, 456 if dialect == "deepl" else 429, "daily_limit_exceeded")
    assert len(_runs(upstream)) == 1  # only the picture


@pytest.fixture(scope="module")
def keyless(upstream: Emulator) -> Iterator[tuple[str, Path]]:
    env = _env(upstream, GATEWAY_KEY_RPM="2") | {"GATEWAY_API_KEYS": ""}  # anyone may call, with any token
    with gateway(env) as served:
        yield served


def test_without_gateway_keys_a_new_token_is_no_new_allowance(keyless: tuple[str, Path]) -> None:
    url, log = keyless
    chat = ROUTES["chat"][1]
    assert [chat(url, f"token-{n}").status for n in range(2)] == [200, 200]
    _is_refusal("openai", chat(url, "token-2"), 429, "rate_limit_exceeded")  # one allowance, shared by all
    _is_refusal("deeplx", ROUTES["deeplx"][1](url, ""), 429, "rate_limit_exceeded")  # no token at all: the same
    assert "share one allowance" in log.read_text()  # the operator is told at start-up

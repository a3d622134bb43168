"""Run calls through Cloudflare AI Gateway (CF_AI_GATEWAY): the official openai client -> gateway -> a
loopback AI Gateway stand-in (tests/ai_gateway.py) -> the Workers AI emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.ai_gateway import AIGatewayStandIn, serving
from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
BGE = "@cf/baai/bge-small-en-v1.5"
GATEWAY_ID = "my-gateway"
AIG_TOKEN = "aig-secret-token-123"
A, B = "acct-alpha-0001", "acct-bravo-0002"


def say(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def aig_env(upstream: Emulator, standin: AIGatewayStandIn, **settings: str) -> dict[str, str]:
    aig = {
        "CF_AI_GATEWAY": GATEWAY_ID,
        "CF_AI_GATEWAY_BASE": standin.base,
        "CF_AI_GATEWAY_CACHE_TTL": "3600",
        "CF_AI_GATEWAY_SKIP_CACHE": "true",
        "CF_AI_GATEWAY_TOKEN": AIG_TOKEN,
    }
    return managed_env(upstream.api_base, **(aig | settings))


@pytest.fixture(scope="module")
def standin(upstream: Emulator) -> Iterator[AIGatewayStandIn]:
    with serving(upstream.api_base) as server:
        yield server


@pytest.fixture(scope="module")
def aig(upstream: Emulator, standin: AIGatewayStandIn) -> Iterator[tuple[openai.OpenAI, Path]]:
    """A managed gateway on one account with every AI Gateway setting on, and an OpenAI client on it."""
    with gateway(aig_env(upstream, standin)) as (url, log):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            yield client, log


@pytest.fixture(autouse=True)
def fresh(standin: AIGatewayStandIn) -> None:
    standin.reset()


def assert_through_the_gateway(standin: AIGatewayStandIn, account: str, model: str) -> None:
    assert standin.seen, "no call reached the AI Gateway stand-in"
    seen = standin.seen[-1]
    assert seen.path == f"/v1/{account}/{GATEWAY_ID}/workers-ai/run/{model}"
    assert seen.headers["authorization"] == f"Bearer {CF_TOKEN}"  # the account's API token, as before
    assert seen.headers["cf-aig-cache-ttl"] == "3600"
    assert seen.headers["cf-aig-skip-cache"] == "true"
    assert seen.headers["cf-aig-authorization"] == f"Bearer {AIG_TOKEN}"


def test_a_chat_completion_goes_through_ai_gateway(
    aig: tuple[openai.OpenAI, Path], standin: AIGatewayStandIn, upstream: Emulator
) -> None:
    client, log = aig
    answer = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: via the gateway"))
    assert answer.choices[0].message.content == "via the gateway"
    assert len(standin.seen) == 1
    assert_through_the_gateway(standin, ACCOUNT, LLAMA)
    assert upstream.last_run()["messages"] == say("Repeat after me: via the gateway")
    assert AIG_TOKEN not in log.read_text() and CF_TOKEN not in log.read_text()
    assert f"AI Gateway `{GATEWAY_ID}`" in log.read_text()


def test_a_streamed_chat_completion_goes_through_ai_gateway(
    aig: tuple[openai.OpenAI, Path], standin: AIGatewayStandIn
) -> None:
    client, _ = aig
    stream = client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: one two three"), stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "one two three"
    assert_through_the_gateway(standin, ACCOUNT, LLAMA)
    assert standin.seen[-1].headers["accept"] == "text/event-stream"


def test_an_embedding_goes_through_ai_gateway(aig: tuple[openai.OpenAI, Path], standin: AIGatewayStandIn) -> None:
    client, _ = aig
    result = client.embeddings.create(model=BGE, input=["hello", "world"])
    assert len(result.data) == 2 and all(len(d.embedding) == 384 for d in result.data)
    assert_through_the_gateway(standin, ACCOUNT, BGE)


def test_the_model_list_still_asks_cloudflare_directly(
    aig: tuple[openai.OpenAI, Path], standin: AIGatewayStandIn, upstream: Emulator
) -> None:
    client, _ = aig
    assert client.models.list().data
    assert standin.seen == []
    searched = [r["path"] for r in upstream.requests() if r["path"].endswith("/ai/models/search")]
    assert searched in ([], [f"/client/v4/accounts/{ACCOUNT}/ai/models/search"])  # [] if already cached


def test_a_bad_model_id_is_refused_before_ai_gateway(
    aig: tuple[openai.OpenAI, Path], standin: AIGatewayStandIn
) -> None:
    client, _ = aig
    for bad in ("@cf/../../../accounts/x/ai/run/@cf/meta/llama", "@cf/meta/llama?x=1", "@cf/meta/llama#x"):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model=bad, messages=say("hi"))
        assert caught.value.response.json()["error"]["param"] == "model"
    assert standin.seen == []


@pytest.mark.parametrize(
    ("status", "kind", "body", "code", "words"),
    [
        (
            401,
            "application/json",
            b'{"success":false,"result":[],"messages":[],"error":[{"code":2009,"message":"Unauthorized"}]}',
            "ai_gateway_auth_failed",
            "CF_AI_GATEWAY_TOKEN",
        ),
        (502, "text/html", b"<html><body>502 Bad Gateway</body></html>", "upstream_bad_response", "not JSON"),
    ],
)
def test_ai_gateway_errors_reach_the_client_as_clear_openai_errors(
    aig: tuple[openai.OpenAI, Path],
    standin: AIGatewayStandIn,
    status: int,
    kind: str,
    body: bytes,
    code: str,
    words: str,
) -> None:
    client, log = aig
    standin.answer = (status, kind, body)
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model=LLAMA, messages=say("hi"), stream=stream)
        assert caught.value.status_code == 502  # the operator's to fix; never a 401 (OneAPI drops the channel)
        error = caught.value.response.json()["error"]
        assert error["code"] == code and words in error["message"]
        assert error["type"] == "upstream_error"
    assert "Traceback" not in log.read_text()


def test_each_pooled_account_uses_its_own_account_id(upstream: Emulator, standin: AIGatewayStandIn) -> None:
    env = aig_env(upstream, standin, CF_ACCOUNTS=f"{A}:{CF_TOKEN},{B}:{CF_TOKEN}")
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            for _ in range(4):
                client.chat.completions.create(model=LLAMA, messages=say("hi"))
    paths = sorted(seen.path for seen in standin.seen)
    assert paths == sorted(
        2 * [f"/v1/{A}/{GATEWAY_ID}/workers-ai/run/{LLAMA}", f"/v1/{B}/{GATEWAY_ID}/workers-ai/run/{LLAMA}"]
    )


@pytest.mark.parametrize("ttl", ["30", "2592001", "-1", "an hour"])
def test_a_bad_cache_ttl_stops_the_start_with_a_clear_message(
    upstream: Emulator, standin: AIGatewayStandIn, ttl: str
) -> None:
    with (
        pytest.raises(RuntimeError, match="exited early") as caught,
        gateway(aig_env(upstream, standin, CF_AI_GATEWAY_CACHE_TTL=ttl)),
    ):
        pass
    assert "cf_ai_gateway_cache_ttl" in str(caught.value).lower()
    if ttl != "an hour":
        assert "must be 0 (not sent) or 60..2592000 seconds" in str(caught.value)
    assert AIG_TOKEN not in str(caught.value)


def test_without_cf_ai_gateway_run_calls_go_straight_to_workers_ai(
    client: openai.OpenAI, standin: AIGatewayStandIn, upstream: Emulator
) -> None:
    client.chat.completions.create(model=LLAMA, messages=say("hi"))
    assert standin.seen == []
    sent = [r for r in upstream.requests() if "/ai/run/" in r["path"]][-1]
    assert sent["path"] == f"/client/v4/accounts/{ACCOUNT}/ai/run/{LLAMA}"
    assert not any(name.startswith("cf-aig-") for name in sent["headers"])


def test_passthrough_callers_go_through_ai_gateway_with_their_own_account(
    upstream: Emulator, standin: AIGatewayStandIn
) -> None:
    env = {"CF_API_BASE": upstream.api_base, "CF_AI_GATEWAY": GATEWAY_ID, "CF_AI_GATEWAY_BASE": standin.base}
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=f"{B}:{CF_TOKEN}", max_retries=0) as client:
            assert client.chat.completions.create(model=LLAMA, messages=say("Repeat after me: mine")).choices
    [seen] = standin.seen
    assert seen.path == f"/v1/{B}/{GATEWAY_ID}/workers-ai/run/{LLAMA}"
    assert seen.headers["authorization"] == f"Bearer {CF_TOKEN}"
    assert not any(name.startswith("cf-aig-") for name in seen.headers)  # none configured, none sent

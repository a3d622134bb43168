"""Models Cloudflare retired on 2026-05-30, as a client with a 2025 setup meets them: answered by their
replacement, visibly (the answer's model, x-model-substituted, the request line, /metrics), or refused with
a 404 that names the replacement; and /v1/models listing today's models with what each can do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.http import call
from tests.servers import ACCOUNT, CF_TOKEN, TEST_KEY, Emulator, gateway, managed_env

RETIRED = "@cf/meta/llama-3.1-8b-instruct"
REPLACEMENT = "@cf/meta/llama-3.1-8b-instruct-fast"
HERMES = "@hf/nousresearch/hermes-2-pro-mistral-7b"  # retired; replaced by glm-4.7-flash
GLM = "@cf/zai-org/glm-4.7-flash"
HELLO = [{"role": "user", "content": "Say hello"}]
SECOND = "acct-bravo-0002"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture(scope="module", params=["managed", "pool"])
def served(request: pytest.FixtureRequest, upstream: Emulator) -> Iterator[tuple[str, Path]]:
    """A gateway of its own (fresh counters): one account, or a pool of two (CF_ACCOUNTS)."""
    settings = {"CF_ACCOUNTS": f"{ACCOUNT}:{CF_TOKEN},{SECOND}:{CF_TOKEN}"} if request.param == "pool" else {}
    with gateway(managed_env(upstream.api_base, **settings)) as running:
        yield running


@pytest.fixture(scope="module")
def refusing(upstream: Emulator) -> Iterator[str]:
    with gateway(managed_env(upstream.api_base, RETIRED_MODELS="refuse")) as (url, _):
        yield url


def _openai(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0)


def _runs(upstream: Emulator) -> list[str]:
    """The model of each run call that reached the emulator."""
    return [r["path"].split("/ai/run/")[1] for r in upstream.requests() if "/ai/run/" in r["path"]]


def _samples(url: str) -> list[Sample]:
    text = call("GET", f"{url}/metrics").body.decode()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _substitutions(url: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["retired"], sample.labels["replacement"]): sample.value
        for sample in _samples(url)
        if sample.name == "gateway_model_substitutions_total"
    }


def _log_line(log: Path, needle: str, timeout: float = 10.0) -> str:
    """The first request line in the gateway's log that has `needle` (lines are written within 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "app.requests" in line and needle in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no request line with {needle!r} in {log}")


def test_a_retired_model_is_answered_by_its_replacement(served: tuple[str, Path], upstream: Emulator) -> None:
    url, log = served
    with _openai(url) as client:
        raw = client.chat.completions.with_raw_response.create(model=RETIRED, messages=HELLO)
        answer = raw.parse()
        assert answer.model == REPLACEMENT and answer.choices[0].message.content
        assert raw.headers["x-model-substituted"] == f"{RETIRED} -> {REPLACEMENT}"
        with client.chat.completions.with_streaming_response.create(
            model=RETIRED, messages=HELLO, stream=True
        ) as stream:
            assert stream.headers["x-model-substituted"] == f"{RETIRED} -> {REPLACEMENT}"
            chunks = list(stream.parse())
        assert chunks and {chunk.model for chunk in chunks} == {REPLACEMENT}
        live = client.chat.completions.with_raw_response.create(model=REPLACEMENT, messages=HELLO)
        assert "x-model-substituted" not in live.headers
    assert _runs(upstream) == [REPLACEMENT] * 3  # the retired id never reaches Cloudflare
    line = _log_line(log, f"retired={RETIRED}")
    assert f"model={REPLACEMENT} " in line and "POST /v1/chat/completions 200" in line
    assert _substitutions(url)[(RETIRED, REPLACEMENT)] == 2


def test_every_route_that_takes_a_model_substitutes(served: tuple[str, Path], upstream: Emulator) -> None:
    url, _ = served
    before = _substitutions(url).get((HERMES, GLM), 0)
    with _openai(url) as client:
        raw = client.responses.with_raw_response.create(model=HERMES, input="Say hello")
        assert raw.parse().model == GLM and raw.headers["x-model-substituted"] == f"{HERMES} -> {GLM}"
        legacy = client.completions.with_raw_response.create(model=HERMES, prompt="Say hello")
        assert legacy.parse().model == GLM and legacy.headers["x-model-substituted"] == f"{HERMES} -> {GLM}"
    with anthropic.Anthropic(base_url=url, api_key=TEST_KEY, max_retries=0) as claude:
        message = claude.messages.with_raw_response.create(model=HERMES, max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
        assert message.parse().model == GLM and message.headers["x-model-substituted"] == f"{HERMES} -> {GLM}"
    assert set(_runs(upstream)) == {GLM}
    assert _substitutions(url)[(HERMES, GLM)] == before + 3


def test_refused_under_the_setting_with_the_replacement_named(refusing: str, upstream: Emulator) -> None:
    with _openai(refusing) as client, pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=RETIRED, messages=HELLO)
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "model_not_found" and error["param"] == "model"
    assert REPLACEMENT in error["message"] and "2026-05-30" in error["message"]
    with anthropic.Anthropic(base_url=refusing, api_key=TEST_KEY, max_retries=0) as claude:
        with pytest.raises(anthropic.NotFoundError) as refused:
            claude.messages.create(model=HERMES, max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
    assert refused.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert GLM in refused.value.message
    assert _runs(upstream) == []
    with _openai(refusing) as client:
        assert client.chat.completions.create(model=REPLACEMENT, messages=HELLO).model == REPLACEMENT
        listed = {m.id: m.model_extra or {} for m in client.models.list()}
    assert listed[RETIRED] == {"retired": "2026-05-30", "replacement": REPLACEMENT}  # no alias_of: refused


def test_the_listing_has_live_models_with_capabilities_and_retired_ids_as_aliases(served: tuple[str, Path]) -> None:
    url, _ = served
    with _openai(url) as client:
        models = {m.id: m for m in client.models.list()}
        kimi = models["@cf/moonshotai/kimi-k2.6"].model_extra or {}
        assert kimi["task"] == "Text Generation" and kimi["context_window"] == 262144
        assert kimi["tools"] and kimi["vision"] and kimi["reasoning"] and kimi["paid_only"]
        assert kimi["pricing"] == {
            "unit": "per M tokens",
            "currency": "USD",
            "input": 0.95,
            "output": 4.0,
            "cached_input": 0.16,
        }
        glm = models[GLM].model_extra or {}
        assert glm["tools"] and glm["reasoning"] and not glm["vision"] and "paid_only" not in glm
        assert models[REPLACEMENT].model_extra["pricing"]["estimated"] is True  # type: ignore[index]
        retired = models[RETIRED].model_extra or {}
        assert retired == {"alias_of": REPLACEMENT, "retired": "2026-05-30", "replacement": REPLACEMENT}
        assert models["gpt-4o"].model_extra["alias_of"] == "@cf/meta/llama-4-scout-17b-16e-instruct"  # type: ignore[index]
        assert models["gpt-4o"].model_extra["vision"] is True  # type: ignore[index]
        # Only live ids are listed as models (tests/unit/test_model_table.py: the emulator serves each one).
        live = [m for m, item in models.items() if "alias_of" not in (item.model_extra or {})]
        assert RETIRED not in live and "@cf/microsoft/phi-2" not in live and len(live) >= 50
        assert client.models.retrieve(HERMES).model_extra == {
            "alias_of": GLM,
            "retired": "2026-05-30",
            "replacement": GLM,
        }
    again = call("GET", f"{url}/v1/models", headers={"Authorization": f"Bearer {TEST_KEY}"})
    assert again.status == 200 and again.json()["data"][0]["object"] == "model"


def test_neurons_at_an_estimated_price_are_marked_on_the_status_page_and_in_metrics(served: tuple[str, Path]) -> None:
    url, _ = served
    with _openai(url) as client:
        client.chat.completions.create(model=REPLACEMENT, messages=HELLO)  # no published price: an estimate
        client.chat.completions.create(model=GLM, messages=HELLO)  # priced by Cloudflare
    figures = {sample.name: sample.value for sample in _samples(url) if sample.name.startswith("gateway_neurons")}
    assert 0 < figures["gateway_neurons_estimated_total"] < figures["gateway_neurons_total"]
    status = call("GET", f"{url}/status.json", headers=AUTH).json()
    seen = {m["model"]: m["estimated"] for account in status["accounts"] for m in account["models"]}
    assert seen[REPLACEMENT] is True and seen[GLM] is False
    page = call("GET", f"{url}/status", headers=AUTH).body.decode()
    assert "(est.)" in page and "estimated: Cloudflare publishes no price for this model" in page

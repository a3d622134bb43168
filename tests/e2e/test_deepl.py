"""POST /v2/translate, GET /v2/usage and /v2/languages (the DeepL API, driven by the official `deepl`
library), the batched custom API, a gateway with no keys, and a text-generation model as the engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import deepl
import pytest

from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator, gateway

M2M100 = "@cf/meta/m2m100-1.2b"
LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
AUTH = {"Authorization": f"DeepL-Auth-Key {TEST_KEY}", "Content-Type": "application/json"}
_serial = itertools.count()


def fresh(text: str) -> str:
    return f"{text} [{next(_serial)}]"


def v2(url: str, body: dict[str, Any] | bytes, headers: dict[str, str] = AUTH) -> Answer:
    return call("POST", f"{url}/v2/translate", body, headers)


@pytest.fixture
def translator(gateway_url: str, monkeypatch: pytest.MonkeyPatch) -> deepl.Translator:
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)  # every error seen at once
    return deepl.Translator(TEST_KEY, server_url=gateway_url, send_platform_info=False)


def test_three_texts_give_three_translations_in_order(gateway_url: str, upstream: Emulator) -> None:
    texts = [fresh("Good morning, how are you?"), fresh("Bonjour, comment allez-vous ?"), fresh("Hola, ¿qué tal?")]
    answer = v2(gateway_url, {"text": texts, "target_lang": "DE"})
    assert answer.status == 200
    assert answer.json() == {
        "translations": [
            {"detected_source_language": source, "text": f"[de] {text}", "billed_characters": len(text)}
            for source, text in zip(["EN", "FR", "ES"], texts, strict=True)
        ]
    }
    sent = {r["body_json"]["text"]: r["body_json"]["source_lang"] for r in upstream.requests()}
    assert sent == dict(zip(texts, ["en", "fr", "es"], strict=True))


def test_form_body_with_repeated_text(gateway_url: str) -> None:
    body = b"text=Hello+friend&text=Goodbye+friend&target_lang=fr&source_lang=en"
    answer = v2(gateway_url, body, {**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert [t["text"] for t in answer.json()["translations"]] == ["[fr] Hello friend", "[fr] Goodbye friend"]


def test_official_library_translates_single_and_list(translator: deepl.Translator) -> None:
    one = translator.translate_text(fresh("The weather is lovely today"), target_lang="DE")
    assert isinstance(one, deepl.TextResult)
    assert one.text.startswith("[de] The weather is lovely today") and one.detected_source_lang == "EN"
    many = translator.translate_text(
        ["Hello", "Guten Tag, wie geht es Ihnen?"], source_lang="EN", target_lang="ZH-HANT"
    )
    assert [r.text for r in many] == ["[zh] 譯文 Hello", "[zh] 譯文 Guten Tag, wie geht es Ihnen?"]
    pt = translator.translate_text(fresh("Thank you very much"), target_lang="PT-BR")
    assert pt.text.startswith("[pt] Thank you")


def test_official_library_reads_usage_and_languages(translator: deepl.Translator) -> None:
    translator.translate_text(fresh("Count these characters"), target_lang="FR")
    usage = translator.get_usage()
    assert usage.character.valid and 0 < usage.character.count < usage.character.limit
    assert not usage.any_limit_reached
    sources = {language.code for language in translator.get_source_languages()}
    targets = {language.code: language for language in translator.get_target_languages()}
    assert {"EN", "ZH", "PT", "DE", "NB", "UK"} <= sources and "EN-US" not in sources
    assert {"EN-US", "EN-GB", "PT-BR", "PT-PT", "ZH", "ZH-HANT", "DE"} <= set(targets) and "EN" not in targets
    assert targets["DE"].supports_formality is False


def test_official_library_sees_a_wrong_key_as_an_authorization_error(
    gateway_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)
    wrong = deepl.Translator("not-the-key", server_url=gateway_url, send_platform_info=False)
    with pytest.raises(deepl.AuthorizationException):
        wrong.translate_text("Hello", target_lang="DE")
    with pytest.raises(deepl.AuthorizationException):
        wrong.get_usage()


def test_official_library_sees_the_daily_allowance_as_quota_exceeded(
    translator: deepl.Translator, upstream: Emulator
) -> None:
    upstream.fault(model=M2M100, code=4006)
    with pytest.raises(deepl.QuotaExceededException):
        translator.translate_text(fresh("Out of neurons"), source_lang="EN", target_lang="DE")


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        ({"text": ["Hi"], "target_lang": "DE"}, {"Content-Type": "application/json"}, 403, "Invalid access token"),
        ({"text": ["Hi"], "target_lang": "DE"}, {**AUTH, "Authorization": "DeepL-Auth-Key x"}, 403, "Invalid access"),
        ({"text": ["Hi"], "target_lang": "QQ"}, AUTH, 400, "Unsupported target_lang: 'QQ'"),
        ({"text": [], "target_lang": "DE"}, AUTH, 400, "'text'"),
        ({"text": ["Hi"] * 51, "target_lang": "DE"}, AUTH, 400, "at most 50"),
        ({"text": ["x" * 70_000, "y" * 70_000], "target_lang": "DE"}, AUTH, 413, "characters"),
    ],
)
def test_bad_requests_are_deepl_errors(
    gateway_url: str, upstream: Emulator, body: dict[str, Any], headers: dict[str, str], status: int, words: str
) -> None:
    answer = v2(gateway_url, body, headers)
    assert answer.status == status
    assert set(answer.json()) == {"message"} and words in answer.json()["message"]
    assert upstream.requests() == []


@pytest.mark.parametrize(("code", "status"), [(3040, 429), (4006, 456), (8005, 503)])
def test_upstream_failures_are_deepl_errors(gateway_url: str, upstream: Emulator, code: int, status: int) -> None:
    upstream.fault(model=M2M100, code=code)
    answer = v2(gateway_url, {"text": [fresh("Failing now")], "source_lang": "EN", "target_lang": "DE"})
    assert answer.status == status and set(answer.json()) == {"message"}


def test_batched_custom_api(gateway_url: str, upstream: Emulator) -> None:
    texts = [fresh("Hello world, how are you today?"), fresh("Bonjour tout le monde, comment allez-vous ?"), ""]
    body = {"source_lang": "auto", "target_lang": "zh-CN", "text_list": texts}
    answer = call("POST", f"{gateway_url}/translate/batch?token={TEST_KEY}", body, {"Content-Type": "application/json"})
    assert answer.status == 200
    assert answer.json() == {
        "translations": [
            {"detected_source_lang": "en", "text": f"[zh] 译文 {texts[0]}"},
            {"detected_source_lang": "fr", "text": f"[zh] 译文 {texts[1]}"},
            {"detected_source_lang": "en", "text": ""},
        ]
    }
    assert len([r for r in upstream.requests() if r["path"].endswith(M2M100)]) == 2
    refused = call("POST", f"{gateway_url}/translate/batch", body, {"Content-Type": "application/json"})
    assert refused.status == 401 and refused.json() == {"code": 401, "message": "Invalid access token"}


def test_batch_of_more_than_50_paragraphs_is_refused_before_any_upstream_call(
    gateway_url: str, upstream: Emulator
) -> None:
    body = {"source_lang": "en", "target_lang": "de", "text_list": [fresh(f"Line {i}") for i in range(51)]}
    answer = call("POST", f"{gateway_url}/translate/batch?token={TEST_KEY}", body, {"Content-Type": "application/json"})
    assert answer.status == 400 and set(answer.json()) == {"code", "message"}
    assert "text_list" in answer.json()["message"]
    assert not [r for r in upstream.requests() if r["path"].endswith(M2M100)]


@pytest.fixture(scope="module")
def open_llm_gateway(upstream: Emulator) -> Iterator[str]:
    """No GATEWAY_API_KEYS, and a text-generation model as the engine."""
    env = {
        "CF_API_BASE": upstream.api_base,
        "CF_ACCOUNT_ID": ACCOUNT,
        "CF_API_TOKEN": CF_TOKEN,
        "TRANSLATE_MODEL": LLAMA,
    }
    with gateway(env) as (url, _):
        yield url


def test_no_keys_configured_serves_anyone(open_llm_gateway: str) -> None:
    answer = call("POST", f"{open_llm_gateway}/translate", {"text": "Hi", "target_lang": "DE"}, {})
    assert answer.status == 200 and answer.json()["code"] == 200


def test_text_generation_engine_gets_the_fixed_prompt(open_llm_gateway: str, upstream: Emulator) -> None:
    text = fresh("The cat sleeps on the sofa.")
    body = {"text": f"{text}\n\nSecond line here.", "source_lang": "EN", "target_lang": "ZH-HANT"}
    answer = call("POST", f"{open_llm_gateway}/translate", body, {"Content-Type": "application/json"})
    assert answer.status == 200
    reply = answer.json()
    emulated = f"Hello from the Workers AI emulator ({LLAMA}). You said: "
    assert reply["data"] == f"{emulated}{text}\n\n{emulated}Second line here."
    payloads = [r["body_json"] for r in upstream.requests() if r["path"].endswith(LLAMA)]
    assert len(payloads) == 2
    system, user = payloads[0]["messages"]
    assert system["role"] == "system" and "from English to Traditional Chinese (Taiwan)" in system["content"]
    assert "translation only" in system["content"]
    assert user == {"role": "user", "content": text}
    assert payloads[0]["temperature"] == 0 and payloads[0]["max_tokens"] > 0


def test_passthrough_mode_sends_the_callers_token_upstream(upstream: Emulator) -> None:
    env = {"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": ACCOUNT}
    with gateway(env) as (url, _):
        body = {"text": fresh("Whose token is this"), "source_lang": "EN", "target_lang": "DE"}
        answer = call("POST", f"{url}/translate?token={CF_TOKEN}", body, {"Content-Type": "application/json"})
        assert answer.status == 200 and answer.json()["data"] == f"[de] {body['text']}"
        sent = [r for r in upstream.requests() if r["path"].endswith(M2M100)]
        assert sent[-1]["headers"]["authorization"] == f"Bearer {CF_TOKEN}"
        refused = call("POST", f"{url}/translate?token=wrong-token", body, {"Content-Type": "application/json"})
        assert refused.status == 401 and set(refused.json()) == {"code", "message"}

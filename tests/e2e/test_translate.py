"""POST /translate (DeepLX) as Immersive Translate calls it, against the emulator's m2m100."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from bench.sentences import SENTENCES
from tests.conftest import TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator

JSON = {"Content-Type": "application/json"}
M2M100 = "@cf/meta/m2m100-1.2b"
_serial = itertools.count()


def fresh(text: str) -> str:
    """The gateway's cache lives as long as the session: each test translates text of its own."""
    return f"{text} ({next(_serial)})"


def deeplx(url: str, body: dict[str, Any] | bytes, query: str = f"?token={TEST_KEY}", **headers: str) -> Answer:
    return call("POST", f"{url}/translate{query}", body, {**JSON, **headers})


def runs(upstream: Emulator) -> list[dict[str, Any]]:
    return [r["body_json"] for r in upstream.requests() if r["path"].endswith(M2M100)]


def test_reply_has_deeplx_shape(gateway_url: str, upstream: Emulator) -> None:
    text = fresh("Hello, world.")
    answer = deeplx(gateway_url, {"text": text, "source_lang": "EN", "target_lang": "DE"})
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    reply = answer.json()
    assert isinstance(reply.pop("id"), int)
    assert reply == {
        "code": 200,
        "data": f"[de] {text}",
        "alternatives": [],
        "source_lang": "EN",
        "target_lang": "DE",
        "method": "Free",
    }
    assert runs(upstream) == [{"text": text, "source_lang": "en", "target_lang": "de"}]


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        (f"?token={TEST_KEY}", {}),
        (f"?password={TEST_KEY}", {}),
        ("", {"Authorization": f"Bearer {TEST_KEY}"}),
        ("", {"Authorization": f"DeepL-Auth-Key {TEST_KEY}"}),
        (
            f"?token={TEST_KEY}",
            {"Cookie": "psession=abc123", "Origin": "chrome-extension://bpoadfkcbjbfhfodiogcnhhhpibjhbnh"},
        ),
    ],
)
def test_every_key_form_is_accepted(gateway_url: str, query: str, headers: dict[str, str]) -> None:
    answer = deeplx(gateway_url, {"text": "Good morning", "source_lang": "en", "target_lang": "fr"}, query, **headers)
    assert answer.status == 200 and answer.json()["data"] == "[fr] Good morning"


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {}), ("?token=wrong", {}), ("?password=", {}), ("", {"Authorization": "DeepL-Auth-Key wrong"})],
)
def test_missing_or_wrong_key_is_a_deeplx_401(
    gateway_url: str, upstream: Emulator, query: str, headers: dict[str, str]
) -> None:
    answer = deeplx(gateway_url, {"text": "Hi", "target_lang": "DE"}, query, **headers)
    assert answer.status == 401
    assert answer.json() == {"code": 401, "message": "Invalid access token"}
    assert runs(upstream) == []


@pytest.mark.parametrize(
    ("target", "engine_target", "expected"),
    [
        ("ZH", "zh", "[zh] 译文 "),
        ("zh-hans", "zh", "[zh] 译文 "),
        ("ZH-HANT", "zh", "[zh] 譯文 "),
        ("zh-TW", "zh", "[zh] 譯文 "),
        ("EN-US", "en", "[en] "),
        ("en-gb", "en", "[en] "),
        ("PT-BR", "pt", "[pt] "),
        ("NB", "no", "[no] "),
    ],
)
def test_deepl_codes_are_normalised(
    gateway_url: str, upstream: Emulator, target: str, engine_target: str, expected: str
) -> None:
    text = fresh("Der Himmel ist heute blau")
    answer = deeplx(gateway_url, {"text": text, "source_lang": "DE", "target_lang": target})
    assert answer.status == 200
    assert answer.json()["data"] == expected + text
    assert answer.json()["target_lang"] == target  # echoed as sent, like DeepLX
    assert runs(upstream)[-1]["target_lang"] == engine_target


def test_traditional_output_is_converted_not_just_relabelled(gateway_url: str) -> None:
    text = fresh("The software was installed")
    simplified = deeplx(gateway_url, {"text": text, "source_lang": "EN", "target_lang": "ZH"}).json()["data"]
    traditional = deeplx(gateway_url, {"text": text, "source_lang": "EN", "target_lang": "ZH-HANT"}).json()["data"]
    assert "译" in simplified and "譯" not in simplified
    assert "譯" in traditional and "译" not in traditional


def test_chinese_into_traditional_changes_only_the_script(gateway_url: str, upstream: Emulator) -> None:
    answer = deeplx(gateway_url, {"text": "请在安装软件之前仔细阅读说明书。", "target_lang": "ZH-HANT"})
    assert answer.json()["data"] == "請在安裝軟體之前仔細閱讀說明書。"
    assert answer.json()["source_lang"] == "ZH"
    assert runs(upstream) == []


DETECTED = ["en", "zh", "fr", "de", "es", "it", "ja", "ko", "pt", "ru", "nl", "pl", "tr", "ar", "he", "th", "vi"]
DETECTED += ["hi", "el", "cs", "hu", "bg", "uk", "fi", "sv", "ro"]


@pytest.mark.parametrize("language", DETECTED)
@pytest.mark.parametrize("source", ["auto", "", None])
def test_source_is_detected(gateway_url: str, upstream: Emulator, language: str, source: str | None) -> None:
    text = SENTENCES[language][0]
    target = "DE" if language == "en" else "EN-US"
    body: dict[str, Any] = {"text": text, "target_lang": target}
    if source is not None:
        body["source_lang"] = source
    answer = deeplx(gateway_url, body)
    assert answer.status == 200
    assert answer.json()["source_lang"] == language.upper()
    sent = [run for run in runs(upstream) if run["text"] == text]
    assert all(run["source_lang"] == language for run in sent)  # a cached text makes no call at all


@pytest.mark.parametrize(("text", "language"), [("Hello", "EN"), ("Danke schön", "DE"), ("Merci", "FR")])
def test_short_texts_are_detected_by_their_words(
    gateway_url: str, upstream: Emulator, text: str, language: str
) -> None:
    answer = deeplx(gateway_url, {"text": text, "source_lang": "auto", "target_lang": "JA"})
    assert answer.status == 200 and answer.json()["source_lang"] == language
    assert [run["source_lang"] for run in runs(upstream) if run["text"] == text] in ([], [language.lower()])


def test_text_already_in_the_target_language_comes_back_unchanged(gateway_url: str, upstream: Emulator) -> None:
    text = "  Dies ist ein ganz normaler deutscher Satz über das Wetter.\n\nUnd noch einer.  "
    answer = deeplx(gateway_url, {"text": text, "source_lang": "auto", "target_lang": "DE"})
    assert answer.json()["data"] == text and answer.json()["source_lang"] == "DE"
    assert runs(upstream) == []


def test_lines_blank_lines_whitespace_and_markup_keep_their_place(gateway_url: str, upstream: Emulator) -> None:
    lines = [fresh("First paragraph"), "", "", f"  {fresh('Indented line')}  ", f"<b>{fresh('Bold')}</b> {{name}}"]
    text = "\n" + "\n".join([*lines, "12,345.67 %", "<br/>"]) + "\n"
    answer = deeplx(gateway_url, {"text": text, "source_lang": "EN", "target_lang": "FR"})
    expected = (
        f"\n[fr] {lines[0]}\n\n\n  [fr] {lines[3].strip()}  \n<b>[fr] {lines[4][3:-11]}</b> {{name}}"
        "\n12,345.67 %\n<br/>\n"
    )
    assert answer.json()["data"] == expected
    assert sorted(run["text"] for run in runs(upstream)) == sorted([lines[0], lines[3].strip(), lines[4][3:-11]])


def test_a_long_paragraph_is_split_at_sentences_and_joined_back(gateway_url: str, upstream: Emulator) -> None:
    sentences = [
        fresh(f"This is sentence number {i} of a long paragraph, with enough words in it") + "." for i in range(20)
    ]
    answer = deeplx(gateway_url, {"text": " ".join(sentences), "source_lang": "EN", "target_lang": "ES"})
    pieces = [run["text"] for run in runs(upstream)]
    assert len(pieces) > 3 and all(len(piece) <= 400 for piece in pieces)
    assert " ".join(pieces) == " ".join(sentences)  # cut between sentences only
    assert all(piece.endswith(".") for piece in pieces)
    assert answer.json()["data"] == " ".join(f"[es] {piece}" for piece in pieces)


def test_form_body_is_accepted(gateway_url: str) -> None:
    answer = deeplx(
        gateway_url,
        b"text=Good+night&source_lang=EN&target_lang=IT",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200 and answer.json()["data"] == "[it] Good night"


def test_a_second_identical_call_makes_no_upstream_call(gateway_url: str, upstream: Emulator) -> None:
    body = {"text": fresh("Cache me if you can"), "source_lang": "EN", "target_lang": "JA"}
    first = deeplx(gateway_url, body).json()
    assert len(runs(upstream)) == 1
    second = deeplx(gateway_url, body).json()
    assert second["data"] == first["data"] == f"[ja] {body['text']}"
    assert len(runs(upstream)) == 1


async def _many(url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            async with session.post(f"{url}/translate?token={TEST_KEY}", json=body) as response:
                return response.status, await response.json()

        return await asyncio.gather(*(one(body) for body in bodies))


def test_concurrent_identical_requests_share_one_upstream_call(gateway_url: str, upstream: Emulator) -> None:
    upstream.fault(model=M2M100, latency_ms=800)  # the first call is slow: the others arrive meanwhile
    body = {"text": fresh("Everybody asks this at once"), "source_lang": "EN", "target_lang": "KO"}
    answers = asyncio.run(_many(gateway_url, [body] * 20))
    assert {status for status, _ in answers} == {200}
    assert {reply["data"] for _, reply in answers} == {f"[ko] {body['text']}"}
    assert len(runs(upstream)) == 1


def test_a_page_of_200_concurrent_paragraphs_is_all_answered(gateway_url: str) -> None:
    texts = [fresh(f"Paragraph {i} of the page") for i in range(200)]
    bodies = [{"text": text, "source_lang": "auto", "target_lang": "ZH"} for text in texts]
    answers = asyncio.run(_many(gateway_url, bodies))
    assert [status for status, _ in answers] == [200] * 200
    assert [reply["data"] for _, reply in answers] == [f"[zh] 译文 {text}" for text in texts]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": "", "target_lang": "DE"}, 404, "No text to translate"),
        ({"target_lang": "DE"}, 404, "No text to translate"),
        ({"text": "Hallo", "target_lang": "XX"}, 400, "Unsupported target_lang: 'XX'."),
        ({"text": "Hallo", "source_lang": "klingon", "target_lang": "EN"}, 400, "Unsupported source_lang: 'klingon'."),
        ({"text": "Hallo"}, 400, "Missing required parameter: 'target_lang'."),
        (b"{not json", 400, "The request body is not valid JSON."),
    ],
)
def test_bad_requests_are_deeplx_errors(
    gateway_url: str, upstream: Emulator, body: dict[str, Any] | bytes, status: int, message: str
) -> None:
    answer = deeplx(gateway_url, body)
    assert answer.status == status
    assert answer.json() == {"code": status, "message": message}
    assert runs(upstream) == []


@pytest.mark.parametrize(
    ("code", "status", "words"), [(8005, 503, "Translation failed"), (3040, 429, "3040"), (4006, 429, "4006")]
)
def test_upstream_failures_are_deeplx_errors(
    gateway_url: str, upstream: Emulator, code: int, status: int, words: str
) -> None:
    upstream.fault(model=M2M100, code=code)
    answer = deeplx(gateway_url, {"text": fresh("Will this fail"), "source_lang": "EN", "target_lang": "DE"})
    assert answer.status == status
    reply = answer.json()
    assert set(reply) == {"code", "message"} and reply["code"] == status and words in reply["message"]
    if status == 429:
        assert int(answer.headers["retry-after"]) >= 1


def test_too_large_body_is_a_deeplx_413(gateway_url: str) -> None:
    # Only the head is sent: the gateway refuses by the declared length, before reading (sending the whole
    # body could meet a closed socket, a broken pipe on the client's side, on a loaded machine).
    host, port = urlsplit(gateway_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", f"/translate?token={TEST_KEY}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2100000")
        connection.endheaders()
        response = connection.getresponse()
        status, reply = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 413 and reply["code"] == 413 and set(reply) == {"code", "message"}


def test_cors_preflight_from_an_extension_origin(gateway_url: str) -> None:
    origin = "chrome-extension://bpoadfkcbjbfhfodiogcnhhhpibjhbnh"
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }
    preflight = call("OPTIONS", f"{gateway_url}/translate?token={TEST_KEY}", None, headers)
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", origin)
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    for extension in (origin, "moz-extension://2c1e1d0f-aaaa", "safari-web-extension://ABCD"):
        answer = deeplx(gateway_url, {"text": "Hi there", "source_lang": "EN", "target_lang": "DE"}, Origin=extension)
        assert answer.status == 200 and answer.headers["access-control-allow-origin"] in ("*", extension)

"""/v1/audio/transcriptions and /v1/audio/translations through the `openai` package, against the emulator."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.samples import mp3, wav
from tests.servers import Emulator
from tests.tools import require

SPEECH = "Hello there. This is a test of the gateway."
TURBO = "@cf/openai/whisper-large-v3-turbo"


def runs(upstream: Emulator) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if "/ai/run/" in r["path"]]


def transcribe(client: openai.OpenAI, audio: bytes, **options: Any) -> Any:
    options.setdefault("model", "whisper-1")
    return client.audio.transcriptions.create(file=("speech.wav", audio, "audio/wav"), **options)


def test_json_is_text_and_turbo_gets_base64_json(client: openai.OpenAI, upstream: Emulator) -> None:
    audio = wav(SPEECH, seconds=3.0)
    result = transcribe(client, audio, language="en", prompt="A test.", temperature=0.2)
    assert result.text == SPEECH
    (run,) = runs(upstream)
    assert run["path"].endswith(TURBO) and run["content_type"] == "application/json"
    sent = run["body_json"]
    assert base64.b64decode(sent["audio"]) == audio
    assert {k: v for k, v in sent.items() if k != "audio"} == {
        "task": "transcribe",
        "language": "en",
        "initial_prompt": "A test.",
    }


def test_text_srt_and_vtt_are_exact(client: openai.OpenAI) -> None:
    audio = wav(SPEECH, seconds=3.0)  # 9 words, 1/3 s each: two sentences, 0-1 s and 1-3 s
    assert transcribe(client, audio, response_format="text") == SPEECH + "\n"
    assert transcribe(client, audio, response_format="srt") == (
        "1\n00:00:00,000 --> 00:00:00,667\nHello there.\n\n"
        "2\n00:00:00,667 --> 00:00:03,000\nThis is a test of the gateway.\n"
    )
    assert transcribe(client, audio, response_format="vtt") == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:00.667\nHello there.\n\n"
        "00:00:00.667 --> 00:00:03.000\nThis is a test of the gateway.\n\n"
    )


def test_content_types(gateway_url: str) -> None:
    expected = {
        "json": "application/json",
        "verbose_json": "application/json",
        "text": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
    }
    for fmt, content_type in expected.items():
        reply = curl_like(gateway_url, {"model": "whisper-1", "response_format": fmt}, wav("hi"))
        assert reply.status_code == 200 and reply.headers["content-type"] == content_type


def test_verbose_json_follows_the_granularities(client: openai.OpenAI) -> None:
    audio = wav("Bonjour tout le monde.", seconds=2.0)
    both = transcribe(
        client, audio, language="fr", response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert (both.language, both.duration, both.text) == ("french", 2.0, "Bonjour tout le monde.")
    assert both.model_extra is not None and both.model_extra["task"] == "transcribe"
    assert both.segments is not None and [(s.id, s.start, s.end, s.text) for s in both.segments] == [
        (0, 0.0, 2.0, "Bonjour tout le monde.")
    ]
    assert both.words is not None and [(w.word, w.start, w.end) for w in both.words][-1] == ("monde.", 1.5, 2.0)
    assert both.usage is not None and both.usage.seconds == 2
    words_only = transcribe(client, audio, response_format="verbose_json", timestamp_granularities=["word"])
    assert words_only.segments is None and words_only.words is not None and len(words_only.words) == 4
    default = transcribe(client, audio, response_format="verbose_json")
    assert default.words is None and default.segments is not None


def test_whisper_takes_the_raw_bytes_and_its_words_become_cues(client: openai.OpenAI, upstream: Emulator) -> None:
    audio = wav(SPEECH, seconds=3.0)
    srt = transcribe(client, audio, model="@cf/openai/whisper", response_format="srt")
    (run,) = runs(upstream)
    assert run["path"].endswith("/ai/run/@cf/openai/whisper") and run["content_type"] == "audio/wav"
    assert run["body_size"] == len(audio) and run["body_json"] is None
    assert re.findall(r"--> .*\n(.*)\n", srt) == ["Hello there.", "This is a test of the gateway."]
    tiny = transcribe(client, audio, model="@cf/openai/whisper-tiny-en", response_format="verbose_json")
    assert tiny.text == SPEECH and tiny.duration == 3.0 and tiny.language == "english"


def test_nova3_gets_the_raw_body_with_its_audio_type(client: openai.OpenAI, upstream: Emulator) -> None:
    audio = mp3("from an mp3 file")
    # The part's declared type is wrong on purpose: the gateway sends what the leading bytes say.
    result = client.audio.transcriptions.create(
        file=("clip.bin", audio, "application/octet-stream"), model="@cf/deepgram/nova-3", response_format="vtt"
    )
    (run,) = runs(upstream)
    assert run["content_type"] == "audio/mpeg" and run["body_size"] == len(audio)
    assert result.startswith("WEBVTT\n\n00:00:00.000 --> ") and result.endswith("\nfrom an mp3 file\n\n")


def curl_like(url: str, fields: dict[str, Any], audio: bytes, name: str = "file") -> httpx.Response:
    """multipart exactly as `curl -F file=@a.wav -F model=... -F 'timestamp_granularities[]=word'` sends it."""
    data = {k: v for k, v in fields.items()}
    return httpx.post(
        f"{url}/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {TEST_KEY}"},
        files={name: ("a.wav", audio, "audio/wav")},
        data=data,
        timeout=30,
    )


def test_curl_form_with_unknown_fields_and_bracketed_granularities(gateway_url: str) -> None:
    fields = {
        "model": "gpt-4o-mini-transcribe",
        "response_format": "verbose_json",
        "timestamp_granularities[]": ["word", "segment"],
        "chunking_strategy": "auto",
        "something_new": "ignored",
    }
    reply = curl_like(gateway_url, fields, wav("curl works"))
    assert reply.status_code == 200
    body = reply.json()
    assert body["text"] == "curl works" and [w["word"] for w in body["words"]] == ["curl", "works"]
    assert body["segments"][0]["text"] == "curl works"


@pytest.mark.needs_tool("curl")
def test_real_curl_upload(gateway_url: str, tmp_path: Path, upstream: Emulator) -> None:
    (tmp_path / "meeting.wav").write_bytes(wav("Sent by curl.", seconds=1.0))
    command = [require("curl"), "-sS", f"{gateway_url}/v1/audio/transcriptions"]
    command += ["-H", f"Authorization: Bearer {TEST_KEY}"]
    command += ["-F", "file=@meeting.wav", "-F", "response_format=srt", "-F", "unknown=ignored"]
    command += ["--form-string", "model=@cf/openai/whisper"]  # with -F, curl would read a file named cf/...
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=60, check=True)
    assert done.stdout == b"1\n00:00:00,000 --> 00:00:01,000\nSent by curl.\n"
    assert runs(upstream)[0]["content_type"] == "audio/wav"


# The openai package marks audio.translations deprecated (OpenAI plans to retire it); the route stays.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_uses_turbos_translate_task(client: openai.OpenAI, upstream: Emulator) -> None:
    result = client.audio.translations.create(file=("fr.wav", wav("Bonjour le monde."), "audio/wav"), model="whisper-1")
    assert result.text == "[en] Bonjour le monde."
    (run,) = runs(upstream)
    assert run["body_json"]["task"] == "translate"
    verbose = client.audio.translations.create(
        file=("fr.wav", wav("Bonjour."), "audio/wav"), model="whisper-1", response_format="verbose_json"
    )
    assert verbose.language == "english" and verbose.model_extra is not None
    assert verbose.model_extra["task"] == "translate"


# The openai package marks audio.translations deprecated (OpenAI plans to retire it); the route stays.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_fallback_transcribes_then_m2m100(client: openai.OpenAI, upstream: Emulator) -> None:
    audio = wav("Bonjour. Au revoir.", seconds=2.0)
    srt = client.audio.translations.create(
        file=("fr.wav", audio, "audio/wav"),
        model="@cf/openai/whisper",
        response_format="srt",
        extra_body={"language": "fr"},
    )
    assert (
        srt == "1\n00:00:00,000 --> 00:00:00,667\n[en] Bonjour.\n\n2\n00:00:00,667 --> 00:00:02,000\n[en] Au revoir.\n"
    )
    paths = [r["path"].split("/ai/run/")[1] for r in runs(upstream)]
    assert paths == ["@cf/openai/whisper", "@cf/meta/m2m100-1.2b", "@cf/meta/m2m100-1.2b"]
    m2m = [r["body_json"] for r in runs(upstream)][1:]
    assert {(b["source_lang"], b["target_lang"]) for b in m2m} == {("fr", "en")}


# The openai package marks audio.translations deprecated (OpenAI plans to retire it); the route stays.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_fallback_without_a_language_detects_it(client: openai.OpenAI, upstream: Emulator) -> None:
    # whisper v1 reports no language and the form names none: the transcript's language is detected
    # (German here), then translated into English, as the seed's shim did with an explicit language.
    spoken = "Guten Morgen, wie geht es dir heute?"
    result = client.audio.translations.create(file=("de.wav", wav(spoken), "audio/wav"), model="@cf/openai/whisper")
    assert result.text == f"[en] {spoken}"
    paths = [r["path"].split("/ai/run/")[1] for r in runs(upstream)]
    assert paths == ["@cf/openai/whisper", "@cf/meta/m2m100-1.2b"]
    assert runs(upstream)[1]["body_json"]["source_lang"] == "de"


# The openai package marks audio.translations deprecated (OpenAI plans to retire it); the route stays.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_fallback_of_english_speech_makes_no_translation_call(
    client: openai.OpenAI, upstream: Emulator
) -> None:
    result = client.audio.translations.create(file=("en.wav", wav(SPEECH), "audio/wav"), model="@cf/openai/whisper")
    assert result.text == SPEECH
    assert [r["path"].split("/ai/run/")[1] for r in runs(upstream)] == ["@cf/openai/whisper"]


BAD_UPLOADS = [
    ({"file": ("a.wav", b"", "audio/wav")}, {"model": "whisper-1"}, "file", "empty_file"),
    ({"file": ("a.wav", b"%PDF-1.7 a document", "audio/wav")}, {"model": "whisper-1"}, "file", "invalid_file_format"),
    ({"file": ("a.txt", b"hello, plain text", "text/plain")}, {"model": "whisper-1"}, "file", "invalid_file_format"),
    ({"audio": ("a.wav", wav("x"), "audio/wav")}, {"model": "whisper-1"}, "file", "missing_required_parameter"),
    ({}, {"model": "whisper-1", "file": "not a file part"}, "file", "missing_required_parameter"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {}, "model", "missing_required_parameter"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {"model": "gpt-4o-mini"}, "model", "model_not_supported"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {"model": "tts-1"}, "model", "model_not_supported"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {"model": "whisper-1", "response_format": "diarized_json"},
     "response_format", "invalid_value"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {"model": "whisper-1", "temperature": "3"}, "temperature",
     "invalid_value"),
    ({"file": ("a.wav", wav("x"), "audio/wav")}, {"model": "whisper-1", "timestamp_granularities[]": "char"},
     "timestamp_granularities[0]", "invalid_value"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "data", "param", "code"), BAD_UPLOADS)
def test_bad_uploads_are_400s_naming_the_field_before_any_upstream_call(
    gateway_url: str, upstream: Emulator, files: dict[str, Any], data: dict[str, Any], param: str, code: str
) -> None:
    reply = httpx.post(
        f"{gateway_url}/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {TEST_KEY}"},
        files=files or {"other": ("x.bin", b"x", "application/octet-stream")},
        data=data,
        timeout=30,
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert runs(upstream) == []


def test_not_multipart_is_a_400(gateway_url: str, upstream: Emulator) -> None:
    reply = httpx.post(
        f"{gateway_url}/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "whisper-1", "file": "x"},
    )
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_content_type"
    assert runs(upstream) == []


def test_the_sdk_sees_a_400_for_a_non_audio_file(client: openai.OpenAI, upstream: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(file=("notes.wav", b"just some notes", "audio/wav"), model="whisper-1")
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "file"
    assert runs(upstream) == []


def test_upstream_errors_reach_the_client_in_openais_shape(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(model=TURBO, status=429, code=3040)
    with pytest.raises(openai.RateLimitError) as caught:
        transcribe(client, wav("x"))
    assert isinstance(caught.value.body, dict) and "3040" in json.dumps(caught.value.body)


def test_malformed_multipart_and_oversized_fields_are_400s(gateway_url: str, upstream: Emulator) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    garbage = httpx.post(
        f"{gateway_url}/v1/audio/transcriptions",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b"--xyz\r\nno headers here, no end\r\n\x00\x01",
    )
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_multipart"
    long_prompt = curl_like(gateway_url, {"model": "whisper-1", "prompt": "x" * 70_000}, wav("x"))
    assert long_prompt.status_code == 400 and long_prompt.json()["error"]["param"] == "prompt"
    assert runs(upstream) == []

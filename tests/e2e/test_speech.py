"""/v1/audio/speech through the `openai` package (`with_streaming_response`), against the emulator."""

from __future__ import annotations

import base64
import io
import json
import wave
from typing import Any

import openai
import pytest

from tests.servers import Emulator


def speak(client: openai.OpenAI, **options: Any) -> tuple[bytes, str]:
    options.setdefault("voice", "alloy")
    options.setdefault("input", "Hello from the gateway")
    with client.audio.speech.with_streaming_response.create(**options) as response:
        return response.read(), response.headers["content-type"]


def last_run(upstream: Emulator) -> tuple[str, dict[str, Any]]:
    run = [r for r in upstream.requests() if "/ai/run/" in r["path"]][-1]
    return run["path"].split("/ai/run/")[1], run["body_json"]


def test_melotts_base64_json_becomes_an_mp3_body(client: openai.OpenAI, upstream: Emulator) -> None:
    audio, content_type = speak(client, model="tts-1")
    assert content_type == "audio/mpeg" and audio.startswith(b"ID3") and b"\xff\xfb" in audio
    assert last_run(upstream) == ("@cf/myshell-ai/melotts", {"prompt": "Hello from the gateway", "lang": "en"})
    speak(client, model="tts-1", voice="fr", input="Bonjour")
    assert last_run(upstream)[1]["lang"] == "fr"


def test_melotts_mp3_is_decoded_for_wav_and_pcm(client: openai.OpenAI, upstream: Emulator) -> None:
    mp3, _ = speak(client, model="tts-1")
    audio, content_type = speak(client, model="tts-1", response_format="wav")
    assert content_type == "audio/wav"
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (24000, 2, 1)
        frames = wav.getnframes()
    silent_frames = mp3.count(b"\xff\xfb\x10\xc4")  # 1152 samples at 44.1 kHz each
    assert abs(frames - silent_frames * 1152 * 24000 / 44100) < 1152
    pcm, content_type = speak(client, model="tts-1", response_format="pcm")
    assert content_type == "audio/pcm" and len(pcm) == frames * 2
    assert last_run(upstream)[1] == {"prompt": "Hello from the gateway", "lang": "en"}  # asked for MP3 still


def test_aura_raw_bytes_with_openai_voices_mapped(client: openai.OpenAI, upstream: Emulator) -> None:
    audio, content_type = speak(client, model="tts-1-hd", voice="onyx")
    assert content_type == "audio/mpeg" and audio.startswith(b"ID3")
    assert last_run(upstream) == (
        "@cf/deepgram/aura-1",
        {"text": "Hello from the gateway", "speaker": "zeus", "encoding": "mp3"},
    )
    speak(client, model="gpt-4o-mini-tts", voice="nova")
    assert last_run(upstream) == (
        "@cf/deepgram/aura-2-en",
        {"text": "Hello from the gateway", "speaker": "luna", "encoding": "mp3"},
    )
    speak(client, model="@cf/deepgram/aura-2-es", voice="diana", input="Hola")
    assert last_run(upstream)[1]["speaker"] == "diana"


def test_aura_formats(client: openai.OpenAI, upstream: Emulator) -> None:
    audio, content_type = speak(client, model="tts-1-hd", response_format="wav")
    assert content_type == "audio/wav"
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (24000, 2, 1)
    pcm, content_type = speak(client, model="tts-1-hd", response_format="pcm")
    assert content_type == "audio/pcm" and len(pcm) % 2 == 0 and not pcm.startswith(b"RIFF")
    assert last_run(upstream)[1] | {"text": ""} == {
        "text": "",
        "speaker": "asteria",
        "encoding": "linear16",
        "container": "none",
        "sample_rate": 24000,
    }
    for fmt, media_type, magic in (("flac", "audio/flac", b"fLaC"), ("opus", "audio/opus", b"OggS")):
        audio, content_type = speak(client, model="tts-1-hd", response_format=fmt)
        assert content_type == media_type and audio.startswith(magic)
    audio, content_type = speak(client, model="tts-1-hd", response_format="aac")
    assert content_type == "audio/aac"


def test_speech_round_trips_through_transcription(client: openai.OpenAI) -> None:
    audio, _ = speak(client, model="tts-1-hd", response_format="wav", input="the round trip works")
    text = client.audio.transcriptions.create(file=("spoken.wav", audio), model="whisper-1", response_format="text")
    assert text == "the round trip works\n"


def test_sse_stream_format(client: openai.OpenAI) -> None:
    whole, _ = speak(client, model="tts-1-hd")
    streamed, content_type = speak(client, model="tts-1-hd", stream_format="sse")
    assert content_type.startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in streamed.decode().split("\n\n") if line.startswith("data: ")]
    assert [e["type"] for e in events][-1] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] == 4
    assert b"".join(base64.b64decode(e["audio"]) for e in events[:-1]) == whole


BAD_SPEECH = [
    ({"model": "tts-1", "response_format": "flac"}, "response_format", "available: mp3, wav, pcm"),
    ({"model": "tts-1-hd", "voice": "nobody"}, "voice", "angus"),
    ({"model": "tts-1", "voice": "de"}, "voice", "en, es, fr, zh, ja, ko"),
    ({"model": "tts-1-hd", "speed": 1.5}, "speed", "speed"),
    ({"model": "tts-1-hd", "input": ""}, "input", ""),
    ({"model": "whisper-1"}, "model", "Text-to-Speech"),
]


@pytest.mark.parametrize(("options", "param", "text"), BAD_SPEECH)
def test_bad_speech_requests_are_400s_before_any_upstream_call(
    client: openai.OpenAI, upstream: Emulator, options: dict[str, Any], param: str, text: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        speak(client, **options)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == param and text in caught.value.body["message"]
    assert [r for r in upstream.requests() if "/ai/run/" in r["path"]] == []

"""Running speech models: an upload to a Transcript (transcribe or translate), and text to speech audio."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

import orjson

from app.catalog import Model
from app.convert.audio import TRANSLATING, Family, Transcript, family, transcript_of, turbo_options
from app.convert.languages import DETECT_CHARS
from app.convert.languages import NAMES as ENGINE_LANGUAGES
from app.convert.speech import DECODED, MEDIA_TYPES, from_mp3, is_aura, speech_payload
from app.convert.subtitles import cues, with_text
from app.convert.whisper_languages import language_code
from app.errors import UpstreamError
from app.protocol.audio import SpeechRequest, TranscriptionForm
from app.serving.gateway import Gateway
from app.serving.translate import translate_text
from app.uploads import Upload
from app.upstream.client import Binary, Credentials

_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 of each chunk joins with no padding in between


def base64_json(upload: Upload, options: dict[str, Any]) -> bytearray:
    """`{"audio": "<base64>", ...options}` built in one buffer of its exact size, read from the spool in
    chunks: the audio is never whole in memory beside its encoding (blocking: run it in a thread)."""
    head = b'{"audio":"'
    rest = orjson.dumps(options)
    tail = b'",' + rest[1:] if len(rest) > 2 else b'"}'
    size = len(head) + 4 * ((upload.size + 2) // 3) + len(tail)
    body = bytearray(size)
    view = memoryview(body)
    view[: len(head)] = head
    position = len(head)
    source = upload.stream()
    while chunk := source.read(_CHUNK):
        encoded = binascii.b2a_base64(chunk, newline=False)
        view[position : position + len(encoded)] = encoded
        position += len(encoded)
    view[position:] = tail
    view.release()
    return body


async def _recognise(
    gw: Gateway, creds: Credentials, model: Model, upload: Upload, media_type: str, options: dict[str, Any]
) -> Transcript:
    if family(model.id) is Family.BASE64_JSON:
        body = await asyncio.to_thread(base64_json, upload, options)
        result = await gw.upstream.run(creds, model.id, body)
    else:
        audio = await asyncio.to_thread(upload.read)
        result = await gw.upstream.run(creds, model.id, audio, content_type=media_type)
    return transcript_of(result)


async def transcribe(
    gw: Gateway, creds: Credentials, model: Model, upload: Upload, media_type: str, form: TranscriptionForm
) -> Transcript:
    """The model's transcript of the upload, in the language spoken."""
    return await _recognise(gw, creds, model, upload, media_type, turbo_options(form, translate=False))


async def translate(
    gw: Gateway, creds: Credentials, model: Model, upload: Upload, media_type: str, form: TranscriptionForm
) -> Transcript:
    """English text of the speech: the model's own `translate` task where it has one; otherwise its
    transcript, translated cue by cue with the translation engine from the language the model reports,
    the form names or, failing both, the gateway detects in the transcript."""
    if model.id in TRANSLATING:
        return await _recognise(gw, creds, model, upload, media_type, turbo_options(form, translate=True))
    transcript = await _recognise(gw, creds, model, upload, media_type, turbo_options(form, translate=False))
    source = language_code(transcript.language or form.language or "") or await _spoken(gw, transcript.text)
    parts = [cue.text for cue in cues(transcript)]
    if source == "en" or not parts:
        return with_text(transcript, transcript.text, parts)
    english = await asyncio.gather(*(_translate_to_english(gw, creds, part, source) for part in parts))
    return with_text(transcript, " ".join(english), list(english))


async def _spoken(gw: Gateway, text: str) -> str:
    """The language of a transcript whose model does not report it (whisper v1) and whose form named
    none: detected from its text, as DeepLX's `source_lang: auto` is."""
    assert gw.translator is not None, "the app's lifespan builds the translator"
    return await gw.translator.detect(text[:DETECT_CHARS]) if text.strip() else "en"


async def _translate_to_english(gw: Gateway, creds: Credentials, text: str, source: str) -> str:
    """One cue into English through the translation engine (its cache, concurrency bound and
    TRANSLATE_MODEL); a source outside the engine's languages is detected from the text instead."""
    if not text.strip():
        return text
    return await translate_text(
        gw.translator, gw.upstream, creds, text, source if source in ENGINE_LANGUAGES else None, "EN"
    )


async def synthesise(gw: Gateway, creds: Credentials, model: Model, request: SpeechRequest) -> tuple[bytes, str]:
    """The audio bytes and their media type, from raw bytes (aura) or base64 JSON (melotts); melotts' MP3
    is decoded when wav or pcm is asked."""
    result = await gw.upstream.run(creds, model.id, speech_payload(model.id, request))
    if isinstance(result, Binary):
        sound = result.body
    else:
        encoded = result.get("audio") if isinstance(result, dict) else None
        if not isinstance(encoded, str):
            raise UpstreamError(f"{model.id} answered without audio.", code="upstream_bad_response")
        sound = await asyncio.to_thread(base64.b64decode, encoded)
    if request.response_format in DECODED and not is_aura(model.id):
        sound = await asyncio.to_thread(from_mp3, sound, request.response_format)
    return sound, MEDIA_TYPES[request.response_format]

"""POST /v1/audio/transcriptions, /v1/audio/translations and /v1/audio/speech."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import ValidationError

from app.caller import caller
from app.catalog import Model, Task
from app.convert.audio import Transcript, check_audio
from app.convert.speech import MEDIA_TYPES
from app.convert.subtitles import render
from app.deps import Gateway, gateway
from app.errors import InvalidRequest
from app.openapi import CALLS_UPSTREAM, documented
from app.ops.requests import EXCHANGE
from app.protocol.audio import SpeechRequest, TranscriptionForm
from app.route import Routes
from app.routers.body import invalid, read_json
from app.serving import audio
from app.uploads import Form, Upload, read_form
from app.upstream.client import Credentials

route = Routes(prefix="/v1", tags=["audio"])
Recogniser = Callable[[Gateway, Credentials, Model, Upload, str, TranscriptionForm], Awaitable[Transcript]]
SSE_CHUNK = 32 * 1024
TRANSCRIPTS = ("text/plain", "application/x-subrip", "text/vtt")
SOUNDS = tuple(dict.fromkeys(MEDIA_TYPES.values()))
SPEECH_PER_MODEL = "`voice`: the model's speakers; `response_format`: the formats the model makes."
SPEECH_EVENTS = (
    "The sound in `response_format`, or with `stream_format: sse` server-sent events: "
    "`speech.audio.delta` events with base64 audio, then `speech.audio.done` with the usage."
)


def _form_schema(description: str) -> dict[str, Any]:
    """The multipart form's schema, for the document (the form is read by hand)."""
    schema = TranscriptionForm.model_json_schema()
    schema["properties"]["file"] = {"type": "string", "format": "binary", "description": description}
    schema["required"] = ["file", "model"]
    return schema


def _parse(form: Form) -> tuple[Upload, TranscriptionForm, str]:
    upload = form.file("file")
    if upload is None:
        raise InvalidRequest(
            "Missing required parameter: 'file' (the audio, sent as a file part of multipart/form-data).",
            param="file",
            code="missing_required_parameter",
        )
    fields: dict[str, Any] = {name: values[-1] for name, values in form.fields.items()}
    granularities = form.getlist("timestamp_granularities[]") or form.getlist("timestamp_granularities")
    if granularities:
        fields["timestamp_granularities"] = granularities
    try:
        parsed = TranscriptionForm.model_validate(fields)
    except ValidationError as error:
        raise invalid(error) from None
    return upload, parsed, check_audio(upload.size, upload.head)


async def _recognise(request: Request, run: Recogniser, task: str) -> Response:
    gw = gateway(request)
    creds = await caller(request, gw)
    form = await read_form(request, file_fields={"file": 1}, max_file_bytes=gw.settings.audio_max_upload_bytes)
    try:
        upload, fields, media_type = _parse(form)
        model = gw.catalog.require(fields.model, Task.SPEECH_RECOGNITION)
        request.scope[EXCHANGE].use(model.id, model.replaces)  # the request log line and metrics name it
        transcript = await run(gw, creds, model, upload, media_type, fields)
    finally:
        form.close()
    body, content_type = render(
        transcript,
        fields.response_format,
        task=task,
        granularities=fields.timestamp_granularities,
        language=fields.language,
    )
    return Response(body, media_type=content_type)


@route.post(
    "/audio/transcriptions",
    doc=documented(
        *CALLS_UPSTREAM, answers=TRANSCRIPTS, form=_form_schema("The audio (flac, mp3, mp4, m4a, ogg, wav, webm).")
    ),
)
async def create_transcription(request: Request) -> Response:
    """Transcribe audio with a Workers AI speech-recognition model (whisper, whisper-large-v3-turbo, nova-3).

    `response_format`: json, text, srt, vtt or verbose_json (with `timestamp_granularities[]`)."""
    return await _recognise(request, audio.transcribe, "transcribe")


@route.post(
    "/audio/translations",
    doc=documented(*CALLS_UPSTREAM, answers=TRANSCRIPTS, form=_form_schema("The audio, in any language.")),
)
async def create_translation(request: Request) -> Response:
    """Speech in any language to English text: whisper-large-v3-turbo's own `translate` task; other models
    transcribe, then m2m100 translates (send `language` when the model does not report it)."""
    return await _recognise(request, audio.translate, "translate")


@route.post(
    "/audio/speech",
    body=SpeechRequest,
    doc=documented(*CALLS_UPSTREAM, streamed=SPEECH_EVENTS, answers=SOUNDS, per_model=SPEECH_PER_MODEL),
)
async def create_speech(request: Request) -> Response:
    """Text to speech with melotts (MP3) or the aura models (mp3, wav, pcm, flac, opus, aac).

    `voice`: an OpenAI voice name mapped to the model's speaker (or language), or the model's own name.
    `stream_format: sse` answers `speech.audio.delta` events, then `speech.audio.done`."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, SpeechRequest)
    model = gw.catalog.require(body.model, Task.TEXT_TO_SPEECH)
    request.scope[EXCHANGE].use(model.id, model.replaces)  # the request log line and metrics name it
    sound, media_type = await audio.synthesise(gw, creds, model, body)
    if body.stream_format == "sse":
        events = await asyncio.to_thread(_speech_events, sound, len(body.input.split()))  # base64 of megabytes
        return Response(events, media_type="text/event-stream")
    return Response(sound, media_type=media_type)


def _speech_events(sound: bytes, words: int) -> bytes:
    frames = [
        b"data: "
        + orjson.dumps({"type": "speech.audio.delta", "audio": base64.b64encode(sound[i : i + SSE_CHUNK]).decode()})
        for i in range(0, len(sound), SSE_CHUNK)
    ]
    usage = {"input_tokens": words, "output_tokens": 0, "total_tokens": words}
    frames.append(b"data: " + orjson.dumps({"type": "speech.audio.done", "usage": usage}))
    return b"\n\n".join(frames) + b"\n\n"

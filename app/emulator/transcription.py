"""Speech recognition (whisper family): the transcript is chosen by a marker inside the audio bytes.

Audio containing the ASCII marker `TRANSCRIPT:` transcribes to the text after it, up to the next newline;
any other audio transcribes to DEFAULT_TRANSCRIPT. Durations assume 16,000 bytes per second.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from app.emulator.envelope import ai_error, bad_input
from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.validation import bool_field, byte_array, enum_field, expect_object, missing, string_field

MARKER = b"TRANSCRIPT:"
DEFAULT_TRANSCRIPT = "This is a transcription from the Workers AI emulator."
BYTES_PER_SECOND = 16_000
TURBO = "@cf/openai/whisper-large-v3-turbo"


def transcript_of(audio: bytes) -> str:
    start = audio.find(MARKER)
    if start < 0:
        return DEFAULT_TRANSCRIPT
    line = audio[start + len(MARKER) :].split(b"\n", 1)[0]
    return line.decode("utf-8", "replace").strip()


def _timestamp(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{secs:06.3f}"


def _words(text: str, duration: float) -> list[dict[str, Any]]:
    words = text.split()
    step = duration / max(len(words), 1)
    return [
        {"word": word, "start": round(index * step, 3), "end": round((index + 1) * step, 3)}
        for index, word in enumerate(words)
    ]


def _vtt(text: str, duration: float) -> str:
    return f"WEBVTT\n\n{_timestamp(0)} --> {_timestamp(duration)}\n{text}\n\n"


def transcribe(audio: bytes, prefix: str = "") -> dict[str, Any]:
    """Whisper's `{text, word_count, words, vtt}` for `audio`."""
    if not audio:
        raise bad_input("The audio at '/audio' is empty")
    text = prefix + transcript_of(audio)
    duration = round(len(audio) / BYTES_PER_SECOND, 3)
    return {"text": text, "word_count": len(text.split()), "words": _words(text, duration), "vtt": _vtt(text, duration)}


def run_speech_recognition(call: Call) -> Output:
    """whisper and whisper-tiny-en take raw bytes or `{"audio": number[]}`; v3-turbo takes base64 JSON."""
    if call.spec.name == TURBO:
        return JsonResult(_turbo(call))
    if not call.is_json:
        return JsonResult(transcribe(call.raw))
    body = expect_object(call.json())
    if "audio" not in body:
        raise missing("/", "audio")
    return JsonResult(transcribe(byte_array(body["audio"], "/audio")))


def _turbo(call: Call) -> dict[str, Any]:
    body = expect_object(call.json())
    encoded = string_field(body, "audio", required=True) or ""
    task = enum_field(body, "task", ["transcribe", "translate"], default="transcribe")
    language = string_field(body, "language") or "en"
    for field in ("initial_prompt", "prefix"):
        string_field(body, field)
    bool_field(body, "vad_filter")
    try:
        audio = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ai_error(5004, "Invalid data type for base64 input: string") from None
    result = transcribe(audio, "[en] " if task == "translate" else "")
    duration = round(len(audio) / BYTES_PER_SECOND, 3)
    segment = {
        "start": 0.0,
        "end": duration,
        "text": result["text"],
        "temperature": 0.0,
        "avg_logprob": -0.1,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
        "words": result["words"],
    }
    info = {"language": language, "language_probability": 1.0, "duration": duration, "duration_after_vad": duration}
    return {
        "transcription_info": info,
        "text": result["text"],
        "word_count": result["word_count"],
        "segments": [segment],
        "vtt": result["vtt"],
    }

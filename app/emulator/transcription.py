"""Speech recognition: whisper, whisper-tiny-en, whisper-large-v3-turbo and nova-3, each in its own form.

The transcript is chosen by a marker inside the audio bytes: audio containing the ASCII marker
`TRANSCRIPT:` transcribes to the text after it, up to the next newline; any other audio transcribes to
DEFAULT_TRANSCRIPT. A WAV's duration comes from its header; any other audio counts 16,000 bytes a second.
Audio that no decoder would take (no known container signature) fails like a model input error.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import wave
from typing import Any

from app.emulator.envelope import EmulatorError, ai_error, bad_input
from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.validation import bool_field, byte_array, enum_field, expect_object, missing, string_field

MARKER = b"TRANSCRIPT:"
DEFAULT_TRANSCRIPT = "This is a transcription from the Workers AI emulator."
BYTES_PER_SECOND = 16_000
TURBO = "@cf/openai/whisper-large-v3-turbo"
NOVA = "@cf/deepgram/nova-3"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def transcript_of(audio: bytes) -> str:
    start = audio.find(MARKER)
    if start < 0:
        return DEFAULT_TRANSCRIPT
    line = audio[start + len(MARKER) :].split(b"\n", 1)[0]
    return line.decode("utf-8", "replace").strip()


def decodable(audio: bytes) -> bool:
    """What ffmpeg would open: WAV, MP3 (ID3 or frame sync), Ogg, FLAC, MP4/M4A, WebM/Matroska, ADTS AAC."""
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        return True
    if audio[:3] == b"ID3" or audio[:4] in (b"OggS", b"fLaC", b"\x1aE\xdf\xa3") or audio[4:8] == b"ftyp":
        return True
    return len(audio) > 1 and audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0


def duration_of(audio: bytes) -> float:
    if audio[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(audio)) as wav:
                return round(float(wav.getnframes()) / float(wav.getframerate()), 3)
        except (wave.Error, EOFError, ZeroDivisionError):
            pass
    return round(len(audio) / BYTES_PER_SECOND, 3)


def _undecodable() -> EmulatorError:
    return ai_error(3010, "Invalid or incomplete input for the model: audio could not be decoded")


def _timestamp(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{secs:06.3f}"


def _segments(text: str, duration: float) -> list[dict[str, Any]]:
    """One segment per sentence, each word given an equal share of the audio."""
    words = text.split()
    step = duration / max(len(words), 1)
    segments: list[dict[str, Any]] = []
    index = 0
    for sentence in _SENTENCE.split(text.strip()):
        timed = []
        for word in sentence.split():
            timed.append({"word": word, "start": round(index * step, 3), "end": round((index + 1) * step, 3)})
            index += 1
        if timed:
            segments.append({"start": timed[0]["start"], "end": timed[-1]["end"], "text": sentence, "words": timed})
    return segments


def _vtt(segments: list[dict[str, Any]]) -> str:
    cues = "".join(f"{_timestamp(s['start'])} --> {_timestamp(s['end'])}\n{s['text']}\n\n" for s in segments)
    return f"WEBVTT\n\n{cues}"


def _audio(audio: bytes) -> tuple[str, float, list[dict[str, Any]]]:
    if not audio:
        raise bad_input("The audio at '/audio' is empty")
    if not decodable(audio):
        raise _undecodable()
    duration = duration_of(audio)
    text = transcript_of(audio)
    return text, duration, _segments(text, duration)


def transcribe(audio: bytes) -> dict[str, Any]:
    """Whisper's `{text, word_count, words, vtt}` for `audio`."""
    text, _, segments = _audio(audio)
    words = [word for segment in segments for word in segment["words"]]
    return {"text": text, "word_count": len(words), "words": words, "vtt": _vtt(segments)}


def run_speech_recognition(call: Call) -> Output:
    """whisper and whisper-tiny-en take raw bytes or `{"audio": number[]}`; v3-turbo takes base64 JSON;
    nova-3 over REST takes only the raw body with its audio content type."""
    if call.spec.name == TURBO:
        return JsonResult(_turbo(call))
    if call.spec.name == NOVA:
        return JsonResult(_nova(call))
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
    text, duration, segments = _audio(audio)
    if task == "translate":  # "translated" to English: marked so a test can tell which task ran
        text, language = f"[en] {text}", "en"
        segments = _segments(text, duration)
    stats = {"temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.01}
    info = {"language": language, "language_probability": 1.0, "duration": duration, "duration_after_vad": duration}
    return {
        "transcription_info": info,
        "text": text,
        "word_count": sum(len(segment["words"]) for segment in segments),
        "segments": [{**segment, **stats} for segment in segments],
        "vtt": _vtt(segments),
    }


def _nova(call: Call) -> dict[str, Any]:
    if call.is_json:  # REST refuses the binding's JSON form (third-party capture, cloudflare/ai notes)
        raise missing("/audio", "body,contentType")
    text, _, segments = _audio(call.raw)
    words = [{**word, "confidence": 0.99, "punctuated_word": word["word"]} for s in segments for word in s["words"]]
    alternative = {"transcript": text, "confidence": 0.99, "words": words}
    return {"results": {"channels": [{"alternatives": [alternative]}]}}

"""Speech recognition between OpenAI and Workers AI: what an upload is, what each model family takes,
and each family's answer normalised into one Transcript. Pure: bytes and dicts in, values out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.convert.sniff import audio_format
from app.errors import InvalidRequest, UpstreamError
from app.protocol.audio import TranscriptionForm

ACCEPTED = "flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, webm (or AAC in ADTS)"


def check_audio(size: int, head: bytes) -> str:
    """The media type of an upload that is audio; a 400 naming `file` otherwise."""
    if size == 0:
        raise InvalidRequest("The uploaded `file` is empty.", param="file", code="empty_file")
    found = audio_format(head)
    if found is None:
        raise InvalidRequest(
            f"The uploaded `file` is not audio in a supported format ({ACCEPTED}).",
            param="file",
            code="invalid_file_format",
        )
    return found[1]


class Family(Enum):
    """How a speech-recognition model takes its audio over REST."""

    RAW = "raw"  # whisper, whisper-tiny-en: the bytes as the body
    BASE64_JSON = "base64"  # whisper-large-v3-turbo: {"audio": base64, language, initial_prompt, task}
    TYPED_RAW = "typed"  # nova-3: the bytes as the body, with their audio content type


TRANSLATING = frozenset({"@cf/openai/whisper-large-v3-turbo"})  # models with `task: "translate"`


def family(model_id: str) -> Family:
    if model_id == "@cf/openai/whisper-large-v3-turbo":
        return Family.BASE64_JSON
    if model_id.startswith("@cf/deepgram/"):
        return Family.TYPED_RAW
    return Family.RAW


def turbo_options(form: TranscriptionForm, *, translate: bool) -> dict[str, Any]:
    """The JSON fields besides `audio` for whisper-large-v3-turbo."""
    options: dict[str, Any] = {"task": "translate" if translate else "transcribe"}
    if form.language:
        options["language"] = form.language
    if form.prompt:
        options["initial_prompt"] = form.prompt
    return options


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None = None
    duration: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)


def transcript_of(result: object) -> Transcript:
    """Any family's answer -> Transcript (whisper `{text, words, vtt}`, turbo `{transcription_info,
    segments}`, nova-3 Deepgram `{results: {channels: [{alternatives}]}}`)."""
    if not isinstance(result, dict):
        raise UpstreamError(
            "Workers AI answered speech recognition without a JSON object.", code="upstream_bad_response"
        )
    if isinstance(result.get("results"), dict):
        return _from_deepgram(result["results"])
    text = result.get("text")
    if not isinstance(text, str):
        raise UpstreamError("Workers AI's transcription has no `text`.", code="upstream_bad_response")
    raw_segments = [s for s in result.get("segments") or [] if isinstance(s, dict)]
    segments = [_segment(s) for s in raw_segments] or _cues(result.get("vtt"))
    words = _words(result.get("words")) or [w for s in raw_segments for w in _words(s.get("words"))]
    raw_info = result.get("transcription_info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    return Transcript(text.strip(), _str(info.get("language")), _duration(info, segments, words), segments, words)


def _from_deepgram(results: dict[str, Any]) -> Transcript:
    channels = results.get("channels") or [{}]
    alternatives = (channels[0] if isinstance(channels[0], dict) else {}).get("alternatives") or [{}]
    best = alternatives[0] if isinstance(alternatives[0], dict) else {}
    words = _words(best.get("words"), key="punctuated_word")
    return Transcript(str(best.get("transcript") or "").strip(), None, _duration({}, [], words), [], words)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _segment(raw: dict[str, Any]) -> Segment:
    stats = (raw.get(k) for k in ("temperature", "avg_logprob", "compression_ratio", "no_speech_prob"))
    return Segment(_num(raw.get("start")), _num(raw.get("end")), str(raw.get("text") or "").strip(), *map(_num, stats))


def _words(raw: object, key: str = "word") -> list[Word]:
    items = [w for w in raw if isinstance(w, dict)] if isinstance(raw, list) else []
    return [Word(str(w.get(key) or w.get("word") or ""), _num(w.get("start")), _num(w.get("end"))) for w in items]


def _duration(info: dict[str, Any], segments: list[Segment], words: list[Word]) -> float:
    if _num(info.get("duration")):
        return round(_num(info["duration"]), 3)
    ends = [s.end for s in segments] + [w.end for w in words]
    return round(max(ends, default=0.0), 3)


_STAMP = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}|\d+[.,]\d{1,3}"  # [hh:]mm:ss.ttt or ss.ttt
_CUE_TIME = re.compile(rf"({_STAMP})\s*-->\s*({_STAMP})")


def _seconds(stamp: str) -> float:
    total = 0.0
    for part in stamp.replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return round(total, 3)


def _cues(vtt: object) -> list[Segment]:
    """The cues of an upstream WebVTT text (hours optional), as segments."""
    if not isinstance(vtt, str):
        return []
    cues: list[Segment] = []
    for block in re.split(r"\r?\n\s*\r?\n", vtt):
        lines = block.strip().splitlines()
        for index, line in enumerate(lines):
            match = _CUE_TIME.search(line)
            if match:
                text = " ".join(part.strip() for part in lines[index + 1 :]).strip()
                cues.append(Segment(_seconds(match[1]), _seconds(match[2]), text))
                break
    return [cue for cue in cues if cue.text]

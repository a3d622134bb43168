"""A Transcript in each of OpenAI's response formats: json, text, srt, vtt, verbose_json. Pure.

OneAPI bills audio by parsing these bodies (`{text}`, the text, the lines after `-->`), so each is exactly
what it claims to be: SRT `1\\n00:00:01,000 --> 00:00:02,500\\ntext`, WebVTT `WEBVTT` then
`00:00:01.000 --> 00:00:02.500` cues.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

import orjson

from app.convert.audio import Segment, Transcript
from app.convert.whisper_languages import language_name
from app.protocol.audio import TranscriptFormat

CONTENT_TYPES: dict[str, str] = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
WORDS_PER_CUE = 12
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f]$")  # also the ideographic full stop, ! and ?


def timestamp(seconds: float, separator: str) -> str:
    """`HH:MM:SS<sep>mmm` (',' for SRT, '.' for WebVTT)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def cues(transcript: Transcript) -> list[Segment]:
    """The upstream's segments; else its words grouped into sentences (at most WORDS_PER_CUE each);
    else the whole text as one cue over the audio's duration."""
    if transcript.segments:
        return transcript.segments
    if transcript.words:
        groups: list[Segment] = []
        current: list[str] = []
        start = transcript.words[0].start
        for index, word in enumerate(transcript.words):
            current.append(word.word.strip())
            last = index == len(transcript.words) - 1
            if last or len(current) >= WORDS_PER_CUE or _SENTENCE_END.search(word.word.strip()):
                groups.append(Segment(start, word.end, " ".join(current)))
                current = []
                start = transcript.words[index + 1].start if not last else word.end
        return groups
    return [Segment(0.0, transcript.duration, transcript.text)] if transcript.text else []


def srt(transcript: Transcript) -> str:
    blocks = (
        f"{n}\n{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}\n{cue.text}\n"
        for n, cue in enumerate(cues(transcript), 1)
    )
    return "\n".join(blocks)


def vtt(transcript: Transcript) -> str:
    blocks = "".join(
        f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}\n{cue.text}\n\n" for cue in cues(transcript)
    )
    return f"WEBVTT\n\n{blocks}"


def _usage(transcript: Transcript) -> dict[str, object]:
    return {"type": "duration", "seconds": math.ceil(transcript.duration)}


def verbose(transcript: Transcript, task: str, granularities: Sequence[str], language: str | None) -> dict[str, object]:
    body: dict[str, object] = {
        "task": task,
        "language": language_name("en" if task == "translate" else transcript.language or language),
        "duration": transcript.duration,
        "text": transcript.text,
    }
    if "segment" in granularities:
        body["segments"] = [
            {
                "id": index,
                "seek": round(cue.start * 100),
                "start": cue.start,
                "end": cue.end,
                "text": cue.text,
                "tokens": [],
                "temperature": cue.temperature,
                "avg_logprob": cue.avg_logprob,
                "compression_ratio": cue.compression_ratio,
                "no_speech_prob": cue.no_speech_prob,
            }
            for index, cue in enumerate(cues(transcript))
        ]
    if "word" in granularities:
        body["words"] = [{"word": w.word.strip(), "start": w.start, "end": w.end} for w in transcript.words]
    body["usage"] = _usage(transcript)
    return body


def render(
    transcript: Transcript,
    fmt: TranscriptFormat,
    *,
    task: str = "transcribe",
    granularities: Sequence[str] | None = None,
    language: str | None = None,
) -> tuple[bytes, str]:
    """The response body and its content type."""
    if fmt == "text":
        body = (transcript.text + "\n").encode()
    elif fmt == "srt":
        body = srt(transcript).encode()
    elif fmt == "vtt":
        body = vtt(transcript).encode()
    elif fmt == "verbose_json":
        body = orjson.dumps(verbose(transcript, task, granularities or ["segment"], language))
    else:
        body = orjson.dumps({"text": transcript.text, "usage": _usage(transcript)})
    return body, CONTENT_TYPES[fmt]


def with_text(transcript: Transcript, text: str, cue_texts: list[str] | None = None) -> Transcript:
    """The same timing with new text (a translation): cue texts replaced one for one when given."""
    segments = cues(transcript)
    if cue_texts is not None and len(cue_texts) == len(segments):
        segments = [replace(cue, text=new) for cue, new in zip(segments, cue_texts, strict=True)]
    else:
        segments = [Segment(0.0, transcript.duration, text)] if text else []
    return Transcript(text, "en", transcript.duration, segments, [])

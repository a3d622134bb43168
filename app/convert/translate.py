"""Translation requests in pieces: what goes to the engine (and what stays as it is), and back.

A text is cut into lines; each line keeps its leading and trailing whitespace and markup (`<b>`, `</a>`,
`{name}`, `{{count}}`, `%s`) outside the engine, lines with no letters are kept as they are, and a line
longer than the engine handles well is cut at sentence boundaries. The engine sees only the segments;
`Plan.join` puts the answers back in place, so blank lines, indentation and markup come out unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from app.convert.languages import NAMES, Target, deepl_code
from app.errors import UpstreamError

_MARKUP = re.compile(r"(<[^<>\n]{0,300}>|\{\{?[A-Za-z0-9_.$ -]{0,60}\}?\}|%\d*\$?[sdif@])")
_SENTENCE_END = re.compile(r"[.!?…。！？；;]+[\"'”’)\]）」』]*\s*")  # noqa: RUF001 (CJK punctuation)


@dataclass(slots=True)
class Plan:
    """A text as literal parts and segments to translate: `parts[i]` is a str, or an int indexing `segments`."""

    parts: list[str | int] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)

    def keep(self, text: str) -> None:
        if text:
            self.parts.append(text)

    def translate(self, text: str) -> None:
        self.parts.append(len(self.segments))
        self.segments.append(text)

    def join(self, translated: list[str]) -> str:
        return "".join(part if isinstance(part, str) else translated[part] for part in self.parts)


def plan(text: str, max_chars: int) -> Plan:
    """Cut `text` into what the engine translates and what is kept verbatim."""
    result = Plan()
    for index, line in enumerate(text.split("\n")):
        if index:
            result.keep("\n")
        _plan_line(result, line, max_chars)
    return result


def _plan_line(result: Plan, line: str, max_chars: int) -> None:
    pieces = _MARKUP.split(line)  # text, markup, text, markup, ..., text
    first, last = 0, len(pieces) - 1
    while first <= last and (first % 2 == 1 or not pieces[first].strip()):
        first += 1
    while last >= first and (last % 2 == 1 or not pieces[last].strip()):
        last -= 1
    if first > last:
        result.keep(line)
        return
    core = "".join(pieces[first : last + 1])
    stripped = core.strip()
    lead = "".join(pieces[:first]) + core[: len(core) - len(core.lstrip())]
    tail = core[len(core.rstrip()) :] + "".join(pieces[last + 1 :])
    result.keep(lead)
    if not any(char.isalpha() for char in stripped):
        result.keep(stripped)  # numbers, symbols, emoji: nothing to translate
    else:
        for chunk, gap in _chunks(stripped, max_chars):
            result.translate(chunk)
            result.keep(gap)
    result.keep(tail)


def _chunks(text: str, max_chars: int) -> list[tuple[str, str]]:
    """(chunk, whitespace after it): whole sentences packed up to `max_chars`; a longer sentence is cut
    at a space (or, with none, anywhere)."""
    if len(text) <= max_chars:
        return [(text, "")]
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        sentences.append(text[start:])
    chunks: list[str] = []
    for sentence in sentences:
        if chunks and len(chunks[-1]) + len(sentence) <= max_chars:
            chunks[-1] += sentence
        else:
            chunks.extend(_cut(sentence, max_chars))
    out = []
    for chunk in chunks:
        body = chunk.rstrip()
        out.append((body, chunk[len(body) :]))
    return out


def _cut(sentence: str, max_chars: int) -> list[str]:
    pieces = []
    while len(sentence) > max_chars:
        space = sentence.rfind(" ", max_chars // 2, max_chars)
        cut = space + 1 if space > 0 else max_chars
        pieces.append(sentence[:cut])
        sentence = sentence[cut:]
    return [*pieces, sentence] if sentence else pieces


def detection_sample(segments: list[str], limit: int) -> str:
    """The first `limit` characters of the text the engine would see (markup left out)."""
    sample, size = [], 0
    for segment in segments:
        sample.append(segment)
        size += len(segment)
        if size >= limit:
            break
    return " ".join(sample)


# The fixed prompt for a text-generation engine: the translation, nothing else.
PROMPT = (
    "You are a translation engine. Translate the user's text from {source} to {target}. Reply with the "
    "translation only: no notes, no quotes, no explanations, no transliteration. Keep markup, "
    "placeholders, numbers and line breaks exactly as they are."
)


def m2m100_payload(text: str, source: str, target: Target) -> dict[str, Any]:
    return {"text": text, "source_lang": source, "target_lang": target.code}


def chat_payload(text: str, source: str, target: Target, max_tokens: int) -> dict[str, Any]:
    system = PROMPT.format(source=NAMES[source], target=target.label)
    return {
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": text}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }


def translated_text(result: object) -> str:
    """m2m100's `{"translated_text": ...}` -> the text."""
    text = result.get("translated_text") if isinstance(result, dict) else None
    if not isinstance(text, str):
        raise UpstreamError("Workers AI answered without a translated_text.", code="upstream_bad_response")
    return text


def form_fields(body: bytes, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """A form body -> fields; a field named in `lists` keeps every value (DeepL repeats `text`)."""
    fields: dict[str, Any] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        if name in lists:
            fields.setdefault(name, []).append(value)
        else:
            fields.setdefault(name, value)
    return fields


def deeplx_reply(text: str, source: str, target_lang: str, reply_id: int) -> dict[str, Any]:
    """DeepLX's answer; `target_lang` is echoed as the client sent it."""
    return {
        "code": 200,
        "id": reply_id,
        "data": text,
        "alternatives": [],
        "source_lang": deepl_code(source),
        "target_lang": target_lang,
        "method": "Free",
    }


def deepl_reply(results: list[tuple[str, str, int]]) -> dict[str, Any]:
    """DeepL's answer from (text, source, characters billed) per input. The official client library
    reads `billed_characters` from every item, so it is always there."""
    return {
        "translations": [
            {"detected_source_language": deepl_code(source), "text": text, "billed_characters": billed}
            for text, source, billed in results
        ]
    }


def batch_reply(results: list[tuple[str, str]]) -> dict[str, Any]:
    """Immersive Translate's custom-API answer: lower-case codes, one item per paragraph."""
    return {"translations": [{"detected_source_lang": source, "text": text} for text, source in results]}

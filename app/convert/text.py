"""Text helpers shared by whole answers and streams: reasoning split, stop sequences, token estimates."""

from __future__ import annotations

from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def split_reasoning(text: str) -> tuple[str | None, str]:
    """`<think>reasoning</think>answer` -> (reasoning, answer). The opening tag may be missing (R1)."""
    end = text.find(THINK_CLOSE)
    if end < 0:
        stripped = text.lstrip()
        if stripped.startswith(THINK_OPEN):  # cut off while still thinking
            return stripped[len(THINK_OPEN) :].strip() or None, ""
        return None, text
    reasoning = text[:end].lstrip()
    if reasoning.startswith(THINK_OPEN):
        reasoning = reasoning[len(THINK_OPEN) :]
    return reasoning.strip() or None, text[end + len(THINK_CLOSE) :].lstrip()


def first_stop(text: str, stops: tuple[str, ...]) -> tuple[int, str | None]:
    """Where the earliest stop sequence in `text` begins and which one it is; (-1, None) if none is."""
    found = [(at, stop) for stop in stops if (at := text.find(stop)) >= 0]
    return min(found) if found else (-1, None)


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """Text up to the first stop sequence, and whether one was found."""
    cut, _ = first_stop(text, stops)
    return (text[:cut], True) if cut >= 0 else (text, False)


def partial_suffix(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that begins one of `markers` (held back in a stream).

    Runs on every streamed chunk, once per stop sequence: only the places in the tail where a marker's
    first character occurs are tried (found by `str.find`, in C), earliest first, so the first that fits is
    the longest. Trying every length instead cost 1.3 ms a chunk with four 128-character stops."""
    best = 0
    end = len(text)
    for marker in markers:
        if not marker:
            continue
        first = marker[0]
        at = text.find(first, max(end - len(marker) + 1, 0))
        while 0 <= at < end - best:
            if marker.startswith(text[at:]):
                best = end - at
                break
            at = text.find(first, at + 1)
    return best


IMAGE_CHARS = 1000  # what a non-text content part counts for in a prompt-size estimate


def tokens_for_chars(chars: int) -> int:
    """A cheap token estimate (about four characters a token) for when Workers AI reports no usage."""
    return (chars + 3) // 4


def estimate_tokens(text: str) -> int:
    return tokens_for_chars(len(text))


def prompt_chars(payload: dict[str, Any]) -> int:
    """How much text a Workers AI payload sends: its `prompt`, or the content of its `messages`."""
    if "prompt" in payload:
        return len(payload["prompt"])
    chars = 0
    for message in payload.get("messages", ()):  # a loop, not nested generators: this runs on every request
        content = message.get("content")
        chars += len(content) if isinstance(content, str) else IMAGE_CHARS
    return chars


class StopFilter:
    """Cuts a streamed text at the first stop sequence, even when it spans chunks."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self._held = ""
        self.stopped = False
        self.matched: str | None = None  # the stop sequence that ended the text

    def feed(self, text: str) -> str:
        if not self.stops:
            return text
        if self.stopped:
            return ""
        text = self._held + text
        cut, self.matched = first_stop(text, self.stops)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return text[:cut]
        keep = partial_suffix(text, self.stops)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held


class ThinkSplitter:
    """Routes streamed text to reasoning until `</think>` (the opening tag optional), then to content."""

    def __init__(self, active: bool) -> None:
        self.thinking = active
        self._held = ""
        self._started = False
        self._answer_started = not active

    def feed(self, text: str) -> tuple[str, str]:
        """(reasoning, content) parts of this piece of text."""
        if not self.thinking:
            return "", self._answer(text)
        text = self._held + text
        self._held = ""
        if not self._started:
            stripped = text.lstrip()
            if THINK_OPEN.startswith(stripped) and len(stripped) < len(THINK_OPEN):
                self._held = text
                return "", ""
            if stripped.startswith(THINK_OPEN):
                text = stripped[len(THINK_OPEN) :]
            self._started = True
        end = text.find(THINK_CLOSE)
        if end >= 0:
            self.thinking = False
            return text[:end], self._answer(text[end + len(THINK_CLOSE) :])
        keep = partial_suffix(text, (THINK_CLOSE,))
        if keep:
            self._held = text[-keep:]
            text = text[:-keep]
        return text, ""

    @property
    def passthrough(self) -> bool:
        """Past the reasoning (or none at all): text goes straight to content."""
        return not self.thinking and self._answer_started

    def _answer(self, text: str) -> str:
        if not self._answer_started:  # the blank lines between </think> and the answer
            text = text.lstrip()
            self._answer_started = bool(text)
        return text

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held

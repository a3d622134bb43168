"""Workers AI SSE events (native or OpenAI-shaped) -> OpenAI deltas, one choice at a time. Pure."""

from __future__ import annotations

from typing import Any

import orjson

from app.catalog import Model
from app.convert.results import FINISH_REASONS, Choice, Usage, as_text, new_id, usage_from
from app.convert.text import StopFilter, ThinkSplitter
from app.errors import GatewayError
from app.upstream.errors import from_envelope

Delta = dict[str, Any]


class StreamState:
    """Translates one upstream stream: `feed_batch` takes the data of events that arrived together and
    returns the deltas to send."""

    def __init__(self, model: Model, *, max_tokens: int, stops: tuple[str, ...]) -> None:
        self.max_tokens = max_tokens
        self.usage: Usage | None = None
        self.done = False  # [DONE] seen, or a stop sequence ended the answer
        self.completion_chars = 0
        self._stop = StopFilter(stops)
        self._think = ThinkSplitter(model.reasoning and not model.openai_shaped)
        self._calls: dict[Any, int] = {}
        self._finish: str | None = None
        self._usage_sum = Usage()
        self._first_prompt: int | None = None
        self._usage_cumulative = False
        self._native_usage = False

    def feed_batch(self, batch: list[bytes]) -> list[Delta]:
        """The deltas of events that arrived together, up to the end of the answer.

        Nearly every event is native text (`{"response": "...", "p": "..."}`) on an answer with no
        reasoning to split off and no stop sequence to watch: that case is handled inline, in under half
        the general path's time (the per-chunk overhead target is 10 microseconds)."""
        out: list[Delta] = []
        plain = self._plain()
        chars = 0
        for data in batch:
            if self.done:
                break
            if data == b"[DONE]":
                self.done = True
                break
            try:
                event = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue  # a malformed event is dropped; the rest of the answer still arrives
            if type(event) is not dict:
                continue
            text = event.get("response")
            # {"response": str} or {"response": str, "p": padding}, and nothing else
            if plain and type(text) is str and ((size := len(event)) == 1 or (size == 2 and "p" in event)):
                if text:
                    chars += len(text)
                    out.append({"content": text})
                continue
            out.extend(self._event(event, data))
            plain = self._plain()  # a reasoning block may have just closed
        self.completion_chars += chars
        return out

    def _event(self, event: dict[str, Any], data: bytes) -> list[Delta]:
        if "error" in event or "errors" in event:
            raise _in_band_error(data)
        choices = event.get("choices")
        if isinstance(choices, list):
            self._openai_usage(event.get("usage"))
            return [d for choice in choices if isinstance(choice, dict) for d in self._openai_choice(choice)]
        return self._native(event)

    def progress(self) -> int:
        """How far the answer got: characters of content, reasoning and tool arguments so far (it grows
        with every delta; the upstream client's stall timer reads it)."""
        return self.completion_chars

    def finish(self) -> tuple[list[Delta], str]:
        """Deltas still held back (partial stop or think markers), and the finish_reason."""
        deltas = []
        held = self._think.flush()
        if held:
            deltas.extend(self._text(held))
        rest = self._stop.flush()
        if rest:
            deltas.append({"content": rest})
        return [d for d in deltas if d], self.finish_reason

    @property
    def stop_sequence(self) -> str | None:
        """The client's stop sequence that ended the answer, if one did."""
        return self._stop.matched

    @property
    def finish_reason(self) -> str:
        if self._calls:
            return "tool_calls"
        if self._stop.stopped:
            return "stop"
        if self._finish is not None:
            return self._finish
        if self.usage is not None and self.usage.completion_tokens >= self.max_tokens:
            return "length"
        return "stop"

    def _native(self, event: dict[str, Any]) -> list[Delta]:
        usage = usage_from(event.get("usage"))
        if usage is not None:  # the native usage event is cumulative: it replaces anything counted so far
            self.usage, self._native_usage = usage, True
        deltas = self._text(as_text(event.get("response")) or "")
        calls = event.get("tool_calls")
        if isinstance(calls, list) and calls:
            deltas.extend(self._tool_calls(calls))
        return deltas

    def _openai_choice(self, choice: dict[str, Any]) -> list[Delta]:
        raw = choice.get("delta")
        delta: dict[str, Any] = raw if isinstance(raw, dict) else {"content": choice.get("text")}
        out: list[Delta] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            self.completion_chars += len(reasoning)
            out.append({"reasoning_content": reasoning})
        content = delta.get("content")
        if isinstance(content, str) and content:
            out.extend(self._text(content))
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and calls:
            out.extend(self._tool_calls(calls))
        finish = choice.get("finish_reason")
        if finish:
            self._finish = FINISH_REASONS.get(str(finish), "stop")
        return out

    def _openai_usage(self, raw: Any) -> None:
        """OpenAI-shaped chunks carry usage that is incremental on some models and cumulative on others;
        a later native `{response: "", usage}` event (cumulative) wins over both."""
        usage = usage_from(raw)
        if usage is None or self._native_usage:
            return
        if self._first_prompt is None:
            self._first_prompt = usage.prompt_tokens
        elif usage.prompt_tokens and usage.prompt_tokens == self._first_prompt:
            self._usage_cumulative = True
        self._usage_sum = self._usage_sum + usage
        self.usage = usage if self._usage_cumulative else self._usage_sum

    def _plain(self) -> bool:
        """Text goes to content as it is: no reasoning to split off, no stop sequence to watch for."""
        return self._think.passthrough and not self._stop.stops

    def _text(self, text: str) -> list[Delta]:
        if not text or self._stop.stopped:
            return []
        self.completion_chars += len(text)
        if self._plain():
            return [{"content": text}]
        reasoning, content = self._think.feed(text)
        out: list[Delta] = []
        if reasoning:
            out.append({"reasoning_content": reasoning})
        content = self._stop.feed(content)
        if content:
            out.append({"content": content})
        self.done = self.done or self._stop.stopped
        return out

    def _tool_calls(self, items: list[Any]) -> list[Delta]:
        out = []
        for item in items:
            if not isinstance(item, dict):
                continue
            fn: dict[str, Any] = item["function"] if isinstance(item.get("function"), dict) else item
            arguments = fn.get("arguments", fn.get("parameters"))
            if arguments is not None and not isinstance(arguments, str):
                arguments = orjson.dumps(arguments).decode()
            key = item.get("index", object())
            self.completion_chars += len(arguments or "")  # progress (and, with no usage, the token estimate)
            if key in self._calls:
                if arguments:
                    out.append({"index": self._calls[key], "function": {"arguments": arguments}})
                continue
            self._calls[key] = len(self._calls)
            out.append(
                {
                    "index": self._calls[key],
                    "id": item.get("id") or new_id("call_"),
                    "type": "function",
                    "function": {"name": str(fn.get("name") or ""), "arguments": arguments or ""},
                }
            )
        return [{"tool_calls": [d]} for d in out]


def deltas_of(choice: Choice) -> list[Delta]:
    """A whole answer (JSON mode, or a model that does not stream) as stream deltas."""
    out: list[Delta] = []
    if choice.reasoning:
        out.append({"reasoning_content": choice.reasoning})
    if choice.content:
        out.append({"content": choice.content})
    for index, call in enumerate(choice.tool_calls):
        out.append({"tool_calls": [{"index": index, **call}]})
    return out


def _in_band_error(data: bytes) -> GatewayError:
    return from_envelope(502, data, client_token=False)

"""Anthropic Messages on the chat path: the same Call, upstream calls and StreamState, framed as Anthropic's
message or event stream (message_start, content blocks and their deltas, message_delta, message_stop)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi.responses import Response

from app.convert.anthropic import message, stop_reason, tool_use, usage_of
from app.convert.results import Choice, Usage, new_id
from app.convert.stream import Delta, StreamState, deltas_of
from app.convert.text import tokens_for_chars
from app.errors import GatewayError, anthropic_sse
from app.ops.requests import Exchange
from app.responses import EventStreamResponse, JSONBytes
from app.serving.cached import Upstream
from app.serving.chat import Call, run_once, stream_once
from app.serving.streams import replay, translate
from app.upstream.client import Credentials, Stream

_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class MessageWriter:
    """Frames the chat path's deltas as Anthropic's events: a content block is opened when a delta of
    another kind (thinking, text, a new tool call) arrives, and closed before the next one opens. A text
    delta is one pre-built head and the encoded text, as the OpenAI chunks are."""

    def __init__(self, model: str, *, show_thinking: bool) -> None:
        self.model = model
        self.show_thinking = show_thinking
        self.id = new_id("msg_")
        self._blocks = -1  # index of the open (last opened) block
        self._open: str | None = None  # "text", "thinking" or "tool_use"
        self._text_head = b""

    def opening(self, input_tokens: int) -> bytes:
        """message_start (input tokens as estimated; message_delta carries Workers AI's count) and a ping."""
        start: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 0},
        }
        return _event("message_start", {"type": "message_start", "message": start}) + _event("ping", {"type": "ping"})

    def frames(self, index: int, deltas: list[Delta]) -> bytes:
        out: list[bytes] = []
        for delta in deltas:
            text = delta.get("content")
            if text:
                if self._open != "text":
                    out.append(self._start({"type": "text", "text": ""}))
                    self._open, self._text_head = "text", _DELTA + b"%d" % self._blocks
                out.append(self._text_head + b',"delta":{"type":"text_delta","text":' + orjson.dumps(text) + b"}}\n\n")
            elif (thought := delta.get("reasoning_content")) and self.show_thinking:
                if self._open != "thinking":
                    out.append(self._start({"type": "thinking", "thinking": "", "signature": ""}))
                    self._open = "thinking"
                out.append(self._delta({"type": "thinking_delta", "thinking": thought}))
            elif calls := delta.get("tool_calls"):
                out.extend(self._tool_call(call) for call in calls)
        return b"".join(out)

    def _tool_call(self, call: dict[str, Any]) -> bytes:
        out = b""
        if "id" in call:  # a new call: its own tool_use block
            out = self._start(tool_use(call, {}))
            self._open = "tool_use"
        arguments = call.get("function", {}).get("arguments")
        if arguments:
            out += self._delta({"type": "input_json_delta", "partial_json": arguments})
        return out

    def _start(self, block: dict[str, Any]) -> bytes:
        closed = self._close()
        self._blocks += 1
        start = {"type": "content_block_start", "index": self._blocks, "content_block": block}
        return closed + _event("content_block_start", start)

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _event("content_block_delta", {"type": "content_block_delta", "index": self._blocks, "delta": delta})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _event("content_block_stop", {"type": "content_block_stop", "index": self._blocks})

    def end(self, finish_reason: str, stop_sequence: str | None, usage: Usage) -> bytes:
        """The open block's stop, message_delta (stop reason, usage) and message_stop."""
        delta = {"stop_reason": stop_reason(finish_reason, stop_sequence), "stop_sequence": stop_sequence}
        body = {"type": "message_delta", "delta": delta, "usage": usage_of(usage)}
        return self._close() + _event("message_delta", body) + _event("message_stop", {"type": "message_stop"})

    def finish(self, states: Sequence[StreamState], include_usage: bool, prompt_tokens: Callable[[], int]) -> bytes:
        state = states[0]
        held, finish_reason = state.finish()
        usage = state.usage or Usage(prompt_tokens(), tokens_for_chars(state.completion_chars))
        return self.frames(0, held) + self.end(finish_reason, state.stop_sequence, usage)

    def error(self, error: GatewayError) -> bytes:
        return anthropic_sse(error)


async def complete(
    call: Call, upstream: Upstream, creds: Credentials, model_name: str, record: Exchange, *, thinking: bool
) -> Response:
    """A whole answer as Anthropic's message. `record` gets the upstream time and the tokens."""
    started = time.perf_counter()
    result = await run_once(call, upstream, creds)
    record.upstream_seconds = time.perf_counter() - started
    choice, usage = _answer(call, result, record)
    return JSONBytes(orjson.dumps(message(model_name, choice, usage, show_thinking=thinking)))


def _answer(call: Call, result: Any, record: Exchange) -> tuple[Choice, Usage]:
    choice, reported = call.choice(result)
    usage = call.usage([(choice, reported)])
    record.count(usage.prompt_tokens, usage.completion_tokens)
    return choice, usage


async def stream(
    call: Call, upstream: Upstream, creds: Credentials, model_name: str, record: Exchange, *, thinking: bool
) -> EventStreamResponse:
    """Anthropic's event stream. Errors before the first byte raise (a real HTTP error); later ones are an
    `error` event. A model that answers whole (gpt-oss over /ai/run) is sent as one burst of events."""
    writer = MessageWriter(model_name, show_thinking=thinking)
    started = time.perf_counter()
    if not call.payload.get("stream"):
        result = await run_once(call, upstream, creds)
        record.upstream_seconds = time.perf_counter() - started
        return _whole(call, writer, result, record)
    opening: list[bytes] = []

    def prepare() -> None:  # while Workers AI works on the request
        if not opening:
            opening.append(writer.opening(call.prompt_tokens))

    opened = await stream_once(call, upstream, creds, prepare)
    record.upstream_seconds = time.perf_counter() - started
    if not isinstance(opened, Stream):  # answered JSON although asked to stream
        return _whole(call, writer, opened, record)
    prepare()
    state = StreamState(call.model, max_tokens=call.max_tokens, stops=call.stops)
    body = translate([opened], [state], writer, opening[0], False, lambda: call.prompt_tokens, count=record.count)
    return EventStreamResponse(body)


def _whole(call: Call, writer: MessageWriter, result: Any, record: Exchange) -> EventStreamResponse:
    """A whole answer sent as the event stream, in one write."""
    choice, usage = _answer(call, result, record)
    frames = [writer.opening(usage.prompt_tokens), writer.frames(0, deltas_of(choice))]
    return EventStreamResponse(replay([*frames, writer.end(choice.finish_reason, choice.stop_sequence, usage)]))

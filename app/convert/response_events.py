"""Chat stream deltas -> the Responses API event sequence, as the official SDKs parse it. Pure.

Each event is `event: <type>` plus `data: {"type": <type>, ..., "sequence_number": n}`. Output items open
as their first delta arrives (reasoning, the message, each function call) and close when another kind
starts or the answer ends. A text delta costs what a chat chunk costs: the frame's head is built once per
item, its tail (with the sequence number) comes from a table, and only the text is encoded.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.convert.response_output import (
    NULL,
    Answer,
    call_item,
    ending,
    message_item,
    reasoning_item,
    summary_part,
    text_part,
    usage_json,
)
from app.convert.results import Usage, new_id
from app.convert.stream import Delta
from app.errors import GatewayError

_KINDS = (
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
)
_HEADS = {kind: b'event: %b\ndata: {"type":"%b",' % (kind.encode(), kind.encode()) for kind in _KINDS}
_TAILS = tuple(b',"sequence_number":%d}\n\n' % n for n in range(2048))  # an event's end, by sequence number
_EMPTY_MESSAGE = b'{"id":"%b","type":"message","status":"in_progress","role":"assistant","content":[]}'
_EMPTY_PART = b'{"type":"output_text","text":"","annotations":[],"logprobs":[]}'


def _tail(seq: int) -> bytes:
    return _TAILS[seq] if seq < len(_TAILS) else b',"sequence_number":%d}\n\n' % seq


def _members(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)[1:-1]


class _Open:
    """The item that is receiving deltas: its index, id, kind, text so far and delta frame head."""

    __slots__ = ("call_id", "head", "id", "index", "kind", "name", "parts", "where")

    def __init__(self, index: int, item_id: str, kind: str, head: bytes = b"") -> None:
        self.index, self.id, self.kind, self.head = index, item_id, kind, head
        self.where = b'"item_id":"%b","output_index":%d' % (item_id.encode(), index)
        self.parts: list[str] = []
        self.call_id = self.name = ""


class EventWriter:
    """The events of one streamed answer. `opening`, then `feed` per batch of deltas, then `close`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seq = 0
        self._closed: list[tuple[int, bytes]] = []  # (output_index, item JSON)
        self._opened = 0
        self._opening: bytes | None = None
        self._current: _Open | None = None
        self._calls: dict[int, _Open] = {}  # function calls by the chat delta's index

    def _next(self, kind: str, members: bytes) -> bytes:
        """The next event; `members` the JSON members between `type` and `sequence_number`."""
        seq = self.seq
        self.seq = seq + 1
        return _HEADS[kind] + members + _tail(seq)

    def opening(self) -> bytes:
        """`response.created` and `response.in_progress`, built once (the upstream client may build them
        while Workers AI works, as the chat path builds its head)."""
        if self._opening is None:
            response = b'"response":' + self.answer.response("in_progress", b"[]")
            self._opening = self._next("response.created", response) + self._next("response.in_progress", response)
        return self._opening

    def feed(self, deltas: list[Delta]) -> bytes:
        out: list[bytes] = []
        append, dumps, tails, limit = out.append, orjson.dumps, _TAILS, len(_TAILS)
        current = self._current
        parts, head = (
            (current.parts, current.head) if current is not None and current.kind == "message" else (None, b"")
        )
        seq = self.seq
        for delta in deltas:
            text = delta.get("content")
            if text:
                if parts is None:
                    self.seq = seq
                    opened, current = self._open_message()
                    append(opened)
                    parts, head, seq = current.parts, current.head, self.seq
                parts.append(text)
                append(head)
                append(dumps(text))
                append(tails[seq] if seq < limit else _tail(seq))
                seq += 1
                continue
            self.seq = seq
            if reasoning := delta.get("reasoning_content"):
                append(self._reasoning(reasoning))
            elif calls := delta.get("tool_calls"):
                out.extend(self._call(call) for call in calls)
            seq, parts = self.seq, None
        self.seq = seq
        return b"".join(out)

    def _start(self, kind: str, item_id: str, head: bytes = b"") -> _Open:
        index, self._opened = self._opened, self._opened + 1
        return _Open(index, item_id, kind, head)

    def _open_message(self) -> tuple[bytes, _Open]:
        closing = self._close_current()
        item_id = self.answer.item_id("msg_")
        opened = self._current = self._start("message", item_id)
        where = opened.where + b',"content_index":0'
        opened.head = _HEADS["response.output_text.delta"] + where + b',"logprobs":[],"delta":'
        added = b'"output_index":%d,"item":%b' % (opened.index, _EMPTY_MESSAGE % item_id.encode())
        events = (
            closing
            + self._next("response.output_item.added", added)
            + self._next("response.content_part.added", where + b',"part":' + _EMPTY_PART)
        )
        return events, opened

    def _reasoning(self, text: str) -> bytes:
        out = b""
        current = self._current
        if current is None or current.kind != "reasoning":
            out = self._close_current()
            current = self._current = self._start("reasoning", self.answer.item_id("rs_"))
            item = orjson.dumps(reasoning_item(current.id, ""))
            out += self._next("response.output_item.added", b'"output_index":%d,"item":%b' % (current.index, item))
            part = orjson.dumps(summary_part(""))
            out += self._next(
                "response.reasoning_summary_part.added", current.where + b',"summary_index":0,"part":' + part
            )
        current.parts.append(text)
        delta = current.where + b',"summary_index":0,"delta":' + orjson.dumps(text)
        return out + self._next("response.reasoning_summary_text.delta", delta)

    def _call(self, call: dict[str, Any]) -> bytes:
        fn = call.get("function") or {}
        arguments = fn.get("arguments") or ""
        opened = self._calls.get(call.get("index", 0))
        out = b""
        if opened is None:
            out = self._close_current()
            opened = self._start("function_call", self.answer.item_id("fc_"))
            opened.call_id, opened.name = call.get("id") or new_id("call_"), fn.get("name") or ""
            self._calls[call.get("index", 0)] = opened
            item = orjson.dumps(call_item(self.answer, opened.id, opened.call_id, opened.name, "", "in_progress"))
            out += self._next("response.output_item.added", b'"output_index":%d,"item":%b' % (opened.index, item))
        if not arguments:
            return out
        opened.parts.append(arguments)
        delta = opened.where + b',"delta":' + orjson.dumps(arguments)
        return out + self._next("response.function_call_arguments.delta", delta)

    def _close_current(self, status: str = "completed") -> bytes:
        current, self._current = self._current, None
        if current is None:
            return b""
        text = orjson.dumps("".join(current.parts))
        if current.kind == "message":
            item = message_item(current.id, text, status)
            where = current.where + b',"content_index":0'
            out = self._next("response.output_text.done", where + b',"text":' + text + b',"logprobs":[]')
            out += self._next("response.content_part.done", where + b',"part":' + text_part(text))
        else:
            part = b'{"type":"summary_text","text":' + text + b"}"
            item = b'{"id":"%b","type":"reasoning","summary":[%b]}' % (current.id.encode(), part)
            where = current.where + b',"summary_index":0'
            out = self._next("response.reasoning_summary_text.done", where + b',"text":' + text)
            out += self._next("response.reasoning_summary_part.done", where + b',"part":' + part)
        self._closed.append((current.index, item))
        done = b'"output_index":%d,"item":%b' % (current.index, item)
        return out + self._next("response.output_item.done", done)

    def close(self, finish_reason: str, usage: Usage) -> tuple[bytes, bytes]:
        """The closing events, and the finished Response object (for storing)."""
        status, incomplete = ending(finish_reason)
        out = [self._close_current("completed" if status == "completed" else "incomplete")]
        for opened in self._calls.values():
            arguments = "".join(opened.parts)
            out.append(
                self._next(
                    "response.function_call_arguments.done", opened.where + b',"arguments":' + orjson.dumps(arguments)
                )
            )
            item = orjson.dumps(call_item(self.answer, opened.id, opened.call_id, opened.name, arguments))
            self._closed.append((opened.index, item))
            out.append(self._next("response.output_item.done", b'"output_index":%d,"item":%b' % (opened.index, item)))
        response = self.answer.response(status, self.output, usage_json(usage), incomplete=incomplete)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        out.append(self._next(kind, b'"response":' + response))
        return b"".join(out), response

    @property
    def output(self) -> bytes:
        """The output array of the items closed so far, in output order."""
        return b"[" + b",".join(item for _, item in sorted(self._closed, key=lambda pair: pair[0])) + b"]"

    def failed(self, error: GatewayError) -> bytes:
        """An upstream failure after the stream started: an `error` event, then `response.failed`."""
        detail = {"code": str(error.code or error.error_type), "message": error.message}
        response = self.answer.response("failed", self.output, NULL, error=orjson.dumps(detail))
        return self._next("error", _members({**detail, "param": error.param})) + self._next(
            "response.failed", b'"response":' + response
        )

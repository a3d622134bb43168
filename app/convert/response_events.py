"""Chat stream deltas -> the Responses API event sequence, as the official SDKs parse it. Pure.

Each event is `event: <type>` plus `data: {"type": <type>, ..., "sequence_number": n}`. Output items open
as their first delta arrives (reasoning, the message, each function call) and close when another kind
starts or the answer ends. The frame around a text delta is built once per item, so a chunk costs one
string encoding and one join, as on the chat path.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.convert.responses import Answer, call_item, ending, message_item, reasoning_item
from app.convert.results import Usage, new_id
from app.convert.stream import Delta
from app.errors import GatewayError


def _event(kind: str, body: dict[str, Any], seq: int) -> bytes:
    data = orjson.dumps({"type": kind, **body, "sequence_number": seq})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


class _Open:
    """The item that is receiving deltas: its index, id, kind, text so far and delta frame head."""

    __slots__ = ("call_id", "head", "id", "index", "kind", "name", "parts")

    def __init__(self, index: int, item_id: str, kind: str, head: bytes) -> None:
        self.index, self.id, self.kind, self.head = index, item_id, kind, head
        self.parts: list[str] = []
        self.call_id = self.name = ""


_TEXT_TAIL = b',"logprobs":[],"sequence_number":'


class EventWriter:
    """The events of one streamed answer. `opening`, then `feed` per batch of deltas, then `close`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seq = 0
        self._closed: list[tuple[int, dict[str, Any]]] = []  # (output_index, item)
        self._opened = 0
        self._opening: bytes | None = None
        self._current: _Open | None = None
        self._calls: dict[int, _Open] = {}  # function calls by the chat delta's index

    def _next(self, kind: str, body: dict[str, Any]) -> bytes:
        self.seq += 1
        return _event(kind, body, self.seq - 1)

    def opening(self) -> bytes:
        """`response.created` and `response.in_progress`, built once (the upstream client may build them
        while Workers AI works, as the chat path builds its head)."""
        if self._opening is None:
            response = self.answer.response("in_progress", [], None)
            created = self._next("response.created", {"response": response})
            self._opening = created + self._next("response.in_progress", {"response": response})
        return self._opening

    def feed(self, deltas: list[Delta]) -> bytes:
        out: list[bytes] = []
        for delta in deltas:
            text = delta.get("content")
            if text:
                current = self._current
                if current is None or current.kind != "message":
                    out.append(self._open_message())
                    current = self._current
                    assert current is not None
                current.parts.append(text)
                out.append(current.head + orjson.dumps(text) + _TEXT_TAIL + str(self.seq).encode() + b"}\n\n")
                self.seq += 1
            elif reasoning := delta.get("reasoning_content"):
                out.append(self._reasoning(reasoning))
            elif calls := delta.get("tool_calls"):
                out.extend(self._call(call) for call in calls)
        return b"".join(out)

    def _start(self, kind: str, item: dict[str, Any], delta_type: str, extra: bytes) -> _Open:
        index, self._opened = self._opened, self._opened + 1
        head = orjson.dumps({"type": delta_type, "item_id": item["id"], "output_index": index})[:-1] + extra
        return _Open(index, item["id"], item["type"], b"event: " + delta_type.encode() + b"\ndata: " + head)

    def _open_message(self) -> bytes:
        closing = self._close_current()
        item = message_item(new_id("msg_"), "", "in_progress")
        item["content"] = []
        opened = self._start("message", item, "response.output_text.delta", b',"content_index":0,"delta":')
        self._current = opened
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        where = {"item_id": opened.id, "output_index": opened.index, "content_index": 0}
        return (
            closing
            + self._next("response.output_item.added", {"output_index": opened.index, "item": item})
            + self._next("response.content_part.added", {**where, "part": part})
        )

    def _reasoning(self, text: str) -> bytes:
        out = b""
        current = self._current
        if current is None or current.kind != "reasoning":
            out = self._close_current()
            item = reasoning_item(new_id("rs_"), "")
            item["summary"] = []
            current = self._current = self._start("reasoning", item, "", b"")
            out += self._next("response.output_item.added", {"output_index": current.index, "item": item})
            part = {"type": "summary_text", "text": ""}
            out += self._next("response.reasoning_summary_part.added", {**self._summary_at(current), "part": part})
        current.parts.append(text)
        return out + self._next("response.reasoning_summary_text.delta", {**self._summary_at(current), "delta": text})

    @staticmethod
    def _summary_at(item: _Open) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": item.index, "summary_index": 0}

    def _call(self, call: dict[str, Any]) -> bytes:
        fn = call.get("function") or {}
        arguments = fn.get("arguments") or ""
        opened = self._calls.get(call.get("index", 0))
        out = b""
        if opened is None:
            out = self._close_current()
            item = call_item(new_id("fc_"), call.get("id") or new_id("call_"), fn.get("name") or "", "", "in_progress")
            opened = self._start("function_call", item, "", b"")
            opened.call_id, opened.name = item["call_id"], item["name"]
            self._calls[call.get("index", 0)] = opened
            out += self._next("response.output_item.added", {"output_index": opened.index, "item": item})
        if not arguments:
            return out
        opened.parts.append(arguments)
        where = {"item_id": opened.id, "output_index": opened.index}
        return out + self._next("response.function_call_arguments.delta", {**where, "delta": arguments})

    def _close_current(self, status: str = "completed") -> bytes:
        current, self._current = self._current, None
        if current is None:
            return b""
        text = "".join(current.parts)
        if current.kind == "message":
            item = message_item(current.id, text, status)
            where = {"item_id": current.id, "output_index": current.index, "content_index": 0}
            out = self._next("response.output_text.done", {**where, "text": text, "logprobs": []})
            out += self._next("response.content_part.done", {**where, "part": item["content"][0]})
        else:
            item = reasoning_item(current.id, text)
            where = self._summary_at(current)
            out = self._next("response.reasoning_summary_text.done", {**where, "text": text})
            out += self._next("response.reasoning_summary_part.done", {**where, "part": item["summary"][0]})
        self._closed.append((current.index, item))
        return out + self._next("response.output_item.done", {"output_index": current.index, "item": item})

    def close(self, finish_reason: str, usage: Usage) -> tuple[bytes, dict[str, Any]]:
        """The closing events, and the finished Response object (for storing)."""
        status, extra = ending(finish_reason)
        out = [self._close_current("completed" if status == "completed" else "incomplete")]
        for opened in self._calls.values():
            arguments = "".join(opened.parts)
            where = {"item_id": opened.id, "output_index": opened.index}
            out.append(self._next("response.function_call_arguments.done", {**where, "arguments": arguments}))
            item = call_item(opened.id, opened.call_id, opened.name, arguments)
            self._closed.append((opened.index, item))
            out.append(self._next("response.output_item.done", {"output_index": opened.index, "item": item}))
        response = self.answer.response(status, self.output, usage, **extra)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        out.append(self._next(kind, {"response": response}))
        return b"".join(out), response

    @property
    def output(self) -> list[dict[str, Any]]:
        return [item for _, item in sorted(self._closed, key=lambda pair: pair[0])]

    def failed(self, error: GatewayError) -> bytes:
        """An upstream failure after the stream started: an `error` event, then `response.failed`."""
        detail = {"code": str(error.code or error.error_type), "message": error.message}
        response = self.answer.response("failed", self.output, None)
        response["error"] = detail
        return self._next("error", {**detail, "param": error.param}) + self._next(
            "response.failed", {"response": response}
        )

"""Scripted replies: a test queues what the "model" answers next (a tool call, then a text), so a coding agent's
multi-step session (tool call, tool result, final answer) runs end to end against the emulator.

A reply is consumed by the first text-generation request it matches (its `model`, and `with_tool` when set:
a request offering a tool of that name), on any endpoint and in every shape the model family answers in
(native or OpenAI-shaped, whole or streamed, /ai/run or /ai/v1). With no reply queued, or none matching,
the deterministic answer of app/emulator/completion.py is given as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.emulator.text_request import TextRequest


class ScriptSpecError(ValueError):
    """A POST /__emulator/script body that does not describe replies."""


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any]


@dataclass
class ScriptedReply:
    """What the model says next: text, tool calls, or both (text first, as models write it)."""

    model: str = "*"
    with_tool: str | None = None  # only a request offering this tool takes it (agents' side calls offer none)
    text: str | None = None
    tool_calls: tuple[ScriptedCall, ...] = field(default_factory=tuple)
    reasoning: str | None = None

    @classmethod
    def parse(cls, body: Any) -> ScriptedReply:
        if not isinstance(body, dict):
            raise ScriptSpecError("a reply must be a JSON object")
        unknown = sorted(set(body) - {"model", "with_tool", "text", "tool_calls", "reasoning"})
        if unknown:
            raise ScriptSpecError(f"unknown reply fields: {', '.join(unknown)}")
        for name in ("model", "with_tool", "text", "reasoning"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ScriptSpecError(f"{name} must be a string")
        calls = tuple(_call(item) for item in _list(body.get("tool_calls", []), "tool_calls"))
        if body.get("text") is None and not calls:
            raise ScriptSpecError("a reply needs `text` or `tool_calls`")
        return cls(
            model=body.get("model") or "*",
            with_tool=body.get("with_tool"),
            text=body.get("text"),
            tool_calls=calls,
            reasoning=body.get("reasoning"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, model: str, request: TextRequest) -> bool:
        if self.model not in ("*", model):
            return False
        return self.with_tool is None or any(tool.name == self.with_tool for tool in request.tools)


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScriptSpecError(f"{name} must be an array")
    return value


def _call(item: Any) -> ScriptedCall:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ScriptSpecError("each tool call needs a `name`")
    arguments = item.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ScriptSpecError("a tool call's `arguments` must be an object")
    return ScriptedCall(item["name"], arguments)


def parse_replies(body: Any) -> list[ScriptedReply]:
    """One reply object, or an array of them (queued in order)."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ScriptSpecError("no replies given")
    return [ScriptedReply.parse(item) for item in items]


class Script:
    """Replies in the order they were queued; the first one matching a request is consumed."""

    def __init__(self) -> None:
        self._replies: list[ScriptedReply] = []
        self.served = 0  # replies consumed so far, for a test to check its whole script was used

    def add(self, replies: list[ScriptedReply]) -> None:
        self._replies.extend(replies)

    def clear(self) -> None:
        self._replies.clear()
        self.served = 0

    def pending(self) -> list[dict[str, Any]]:
        return [reply.to_json() for reply in self._replies]

    def take(self, model: str, request: TextRequest) -> ScriptedReply | None:
        for reply in self._replies:
            if reply.matches(model, request):
                self._replies.remove(reply)
                self.served += 1
                return reply
        return None

"""The deterministic text "model": what every chat model answers, before it is shaped."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

import orjson

from app.emulator.models import Family, ModelSpec, Reasoning
from app.emulator.schema_sample import sample_object
from app.emulator.script import ScriptedReply
from app.emulator.text_request import Message, TextRequest, Tool
from app.emulator.tokens import count, tokenize

REPEAT_MARKER = "Repeat after me:"
REASONING_TEXT = "The user wrote to me, so I will answer them plainly."


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """One deterministic answer; the native and OpenAI shapes are both rendered from it."""

    spec: ModelSpec
    request: TextRequest
    content: str | None  # None when the model calls tools; inline reasoning is part of it
    reasoning: str | None = None  # separate reasoning (OpenAI-shaped models)
    json_value: dict[str, Any] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    completion_tokens: int = 0
    cached_tokens: int = 0  # of the prompt's tokens, those the session's previous prompt had (plans.py)

    @property
    def prompt_tokens(self) -> int:
        return self.request.prompt_tokens


def reply_text(model: str, messages: tuple[Message, ...]) -> str:
    """The answer text: a tool result echo, a "Repeat after me:" echo, or the greeting."""
    if messages and messages[-1].role == "tool":
        return f"The tool returned: {messages[-1].text}"
    user = next((message.text for message in reversed(messages) if message.role == "user"), "")
    if REPEAT_MARKER in user:
        return user.split(REPEAT_MARKER, 1)[1].strip()
    return f"Hello from the Workers AI emulator ({model}). You said: {user}"


def complete(spec: ModelSpec, request: TextRequest, reply: ScriptedReply | None = None) -> Completion:
    """Answer `request` the way `spec`'s model family would (with `reply`'s content when a test scripted it)."""
    if reply is not None:
        return _scripted(spec, request, reply)
    tool = _chosen_tool(request)
    if tool is not None:
        call = ToolCall(_call_id(), tool.name, sample_object(tool.parameters))
        tokens = count(call.name + " " + orjson.dumps(call.arguments).decode())
        return Completion(spec, request, None, None, None, (call,), "tool_calls", tokens)
    answer = reply_text(spec.name, request.messages)
    if request.json_mode:
        value = sample_object(request.json_schema) if request.json_schema else {"response": answer}
        return Completion(spec, request, None, json_value=value, completion_tokens=count(orjson.dumps(value).decode()))
    thinking = request.thinking and spec.reasoning is not Reasoning.NONE
    reasoning = REASONING_TEXT if thinking else ""
    if spec.reasoning is Reasoning.INLINE_NO_OPEN:
        answer, reasoning = f"{reasoning}\n</think>\n\n{answer}", ""
    elif spec.reasoning is Reasoning.INLINE:
        answer, reasoning = f"<think>\n{reasoning}\n</think>\n\n{answer}", ""
    reasoning_tokens = tokenize(reasoning)[: request.max_tokens]
    answer_tokens = tokenize(answer)
    kept = answer_tokens[: request.max_tokens - len(reasoning_tokens)]
    truncated = len(kept) < len(answer_tokens)
    return Completion(
        spec,
        request,
        "".join(kept) if truncated else answer,
        "".join(reasoning_tokens) if thinking and spec.family is Family.OPENAI else None,
        finish_reason="length" if truncated else "stop",
        completion_tokens=len(reasoning_tokens) + len(kept),
    )


def _scripted(spec: ModelSpec, request: TextRequest, reply: ScriptedReply) -> Completion:
    calls = tuple(ToolCall(_call_id(), call.name, call.arguments) for call in reply.tool_calls)
    reasoning = reply.reasoning if spec.family is Family.OPENAI else None
    said = " ".join(orjson.dumps(call.arguments).decode() for call in calls)
    tokens = count(f"{reply.text or ''} {reasoning or ''} {said}")
    finish = "tool_calls" if calls else "stop"
    return Completion(spec, request, reply.text, reasoning, None, calls, finish, tokens)


def _chosen_tool(request: TextRequest) -> Tool | None:
    if not request.tools or request.tool_choice == "none" or not request.messages:
        return None
    if request.messages[-1].role != "user":
        return None
    if request.tool_choice is None:
        return request.tools[0]
    return next(tool for tool in request.tools if tool.name == request.tool_choice)


def _call_id() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=9))

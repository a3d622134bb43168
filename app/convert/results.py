"""Workers AI text-generation results (native or OpenAI-shaped) -> OpenAI choices and usage."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.catalog import Model
from app.convert.text import estimate_tokens, first_stop, split_reasoning

_TAGGED_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)
FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "eos": "stop",
    "content_filter": "content_filter",
}


def new_id(prefix: str) -> str:
    return prefix + os.urandom(12).hex()


@dataclass(slots=True)
class Choice:
    content: str | None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    stop_sequence: str | None = None  # the client's stop sequence that ended the content, if one did


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of prompt_tokens, those Workers AI read from its prefix cache (`prompt_tokens_details.cached_tokens`,
    # billed at a lower rate); None when the answer did not say.
    cached_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }
        if self.cached_tokens is not None:
            body["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        return body

    def __add__(self, other: Usage) -> Usage:
        cached = self.cached_tokens
        if other.cached_tokens is not None:
            cached = (cached or 0) + other.cached_tokens
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens, cached)

    def with_completion(self, completion_tokens: int) -> Usage:
        """This prompt (cached part included) with another completion count (n choices summed)."""
        return Usage(self.prompt_tokens, completion_tokens, self.cached_tokens)


def cached_of(raw: dict[str, Any]) -> int | None:
    """`usage.prompt_tokens_details.cached_tokens`, as Workers AI reports prefix-cache hits."""
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return round(cached) if isinstance(cached, int | float) and not isinstance(cached, bool) else None


def usage_from(raw: Any) -> Usage | None:
    """Workers AI usage (token counts may be floats, `neurons` may ride along) -> integer Usage."""
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not isinstance(prompt, int | float) and not isinstance(completion, int | float):
        return None
    return Usage(round(prompt or 0), round(completion or 0), cached_of(raw) if "prompt_tokens_details" in raw else None)


def tool_call(item: dict[str, Any]) -> dict[str, Any]:
    """A native `{name, arguments: object}` or OpenAI-style call -> OpenAI's shape with string args."""
    fn: dict[str, Any] = item["function"] if isinstance(item.get("function"), dict) else item
    arguments = fn.get("arguments", fn.get("parameters"))
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments if arguments is not None else {}).decode()
    return {
        "id": item.get("id") or new_id("call_"),
        "type": "function",
        "function": {"name": str(fn.get("name") or ""), "arguments": arguments},
    }


def as_text(response: Any) -> str | None:
    """`response` may be a string, an object (JSON mode), a number, or null (tool calls)."""
    if response is None or isinstance(response, str):
        return response
    return orjson.dumps(response).decode()


def _tagged_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Hermes/Mistral-style `<tool_call>{...}</tool_call>` text -> calls, and the text around them."""
    calls = []
    for match in _TAGGED_CALL.finditer(text):
        try:
            parsed = orjson.loads(match.group(1))
        except orjson.JSONDecodeError:
            return text, []
        if not isinstance(parsed, dict) or "name" not in parsed:
            return text, []
        calls.append(tool_call(parsed))
    return (_TAGGED_CALL.sub("", text).strip(), calls) if calls else (text, [])


def parse_chat_result(
    result: dict[str, Any], model: Model, *, max_tokens: int, stops: tuple[str, ...], tools: bool
) -> tuple[Choice, Usage | None]:
    """One upstream answer -> the choice and usage the client sees."""
    usage = usage_from(result.get("usage"))
    choices = result.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        first = choices[0]
        message = first.get("message") or {}
        text = as_text(message.get("content") if "message" in first else first.get("text"))
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        calls = [tool_call(c) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        upstream_finish = FINISH_REASONS.get(str(first.get("finish_reason")), "stop")
    else:
        text = as_text(result.get("response"))
        reasoning = None
        calls = [tool_call(c) for c in result.get("tool_calls") or [] if isinstance(c, dict)]
        upstream_finish = None
    if text and reasoning is None and (model.reasoning or "</think>" in text):
        reasoning, text = split_reasoning(text)
    if text and tools and not calls and "<tool_call>" in text:
        text, calls = _tagged_calls(text)
    choice = Choice(text if text or not calls else None, reasoning or None, calls)
    stopped = False
    if choice.content and stops:
        cut, choice.stop_sequence = first_stop(choice.content, stops)
        if stopped := cut >= 0:
            choice.content = choice.content[:cut]
    if calls:
        choice.finish_reason = "tool_calls"
    elif stopped:
        choice.finish_reason = "stop"
    elif upstream_finish is not None:
        choice.finish_reason = upstream_finish
    elif usage is not None and usage.completion_tokens >= max_tokens:
        choice.finish_reason = "length"
    if choice.content is None and not calls:
        choice.content = ""
    return choice, usage


def estimate_usage(prompt_tokens: int, choices: list[Choice]) -> Usage:
    completion = sum(estimate_tokens((c.content or "") + (c.reasoning or "")) for c in choices)
    return Usage(prompt_tokens, completion)


def message_of(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content}
    if choice.reasoning:
        message["reasoning_content"] = choice.reasoning
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    return message


def chat_completion(model: str, choices: list[Choice], usage: Usage, created: int) -> dict[str, Any]:
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "message": message_of(c), "logprobs": None, "finish_reason": c.finish_reason}
            for i, c in enumerate(choices)
        ],
        "usage": usage.to_dict(),
    }


def text_completion(model: str, choices: list[Choice], usage: Usage, created: int) -> dict[str, Any]:
    return {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "text": c.content or "", "logprobs": None, "finish_reason": c.finish_reason}
            for i, c in enumerate(choices)
        ],
        "usage": usage.to_dict(),
    }

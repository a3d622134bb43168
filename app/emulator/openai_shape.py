"""OpenAI-shaped text output: chat.completion objects and chat.completion.chunk streams.

Used by the OpenAI-shaped models on /ai/run (with `p` padding, incremental usage and neurons) and by the
OpenAI-compatible /ai/v1/chat/completions endpoint for every model (plain OpenAI framing).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from app.emulator.completion import Completion, ToolCall
from app.emulator.models import Reasoning, neurons
from app.emulator.sse import DONE, frame, padding
from app.emulator.tokens import tokenize, usage


def _usage(completion: Completion, prompt: int, generated: int, run_endpoint: bool) -> dict[str, Any]:
    """The usage of `prompt` tokens (the cached ones, when the prompt is counted) and `generated` tokens."""
    cached = completion.cached_tokens if prompt else 0
    body = usage(prompt, generated, cached)
    if run_endpoint:
        body["prompt_tokens_details"] = {"cached_tokens": cached}
        body["neurons"] = neurons(completion.spec, prompt, generated, cached)
    return body


def _reasoning_key(completion: Completion) -> str:
    return "reasoning" if completion.spec.reasoning is Reasoning.REASONING else "reasoning_content"


def _tool_call(call: ToolCall, index: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {} if index is None else {"index": index}
    arguments = orjson.dumps(call.arguments).decode()
    item.update(id=f"chatcmpl-tool-{call.id}", type="function", function={"name": call.name, "arguments": arguments})
    return item


def _content(completion: Completion) -> str | None:
    if completion.json_value is not None:
        return orjson.dumps(completion.json_value).decode()
    return completion.content


def completion_object(completion: Completion, *, run_endpoint: bool) -> dict[str, Any]:
    """A `chat.completion` (messages) or `text_completion` (prompt) object."""
    total = _usage(completion, completion.prompt_tokens, completion.completion_tokens, run_endpoint)
    head = {"id": uuid.uuid4().hex, "created": int(time.time()), "model": completion.spec.name}
    if completion.request.is_prompt:
        choice = {"index": 0, "text": _content(completion) or "", "finish_reason": completion.finish_reason}
        return {**head, "object": "text_completion", "choices": [{**choice, "logprobs": None}], "usage": total}
    message: dict[str, Any] = {"role": "assistant", "content": _content(completion)}
    if completion.reasoning is not None:
        message[_reasoning_key(completion)] = completion.reasoning
    if completion.tool_calls:
        message["tool_calls"] = [_tool_call(call) for call in completion.tool_calls]
    choice = {"index": 0, "message": message, "finish_reason": completion.finish_reason, "logprobs": None}
    return {**head, "object": "chat.completion", "choices": [choice], "usage": total}


def chunk_events(completion: Completion, *, run_endpoint: bool, include_usage: bool = False) -> list[bytes]:
    """`chat.completion.chunk` events, one per token.

    On /ai/run every chunk carries `p` and an incremental `usage`, an empty-choices usage chunk follows,
    then a native `{"response": "", "usage": <cumulative>}` event, as captured from gemma-4. On /ai/v1 the
    framing is OpenAI's: usage only in a final empty-choices chunk when `include_usage` is asked for.
    """
    head = {"id": uuid.uuid4().hex, "created": int(time.time()), "model": completion.spec.name}
    prompt = completion.prompt_tokens

    def chunk(choices: list[dict[str, Any]], prompt_part: int = 0, generated: int = 0) -> bytes:
        event: dict[str, Any] = {"choices": choices, **head, "object": "chat.completion.chunk"}
        if run_endpoint:
            event["p"] = padding()
            event["usage"] = _usage(completion, prompt_part, generated, True)
        return frame(event)

    def delta(body: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": body, "finish_reason": finish, "logprobs": None}]

    events = [chunk(delta({"role": "assistant", "content": ""}), prompt_part=prompt)]
    for token in tokenize(completion.reasoning or ""):
        events.append(chunk(delta({_reasoning_key(completion): token}), generated=1))
    text = tokenize(_content(completion) or "")  # a scripted reply may say something before its tool calls
    for token in text:
        events.append(chunk(delta({"content": token}), generated=1))
    if completion.tool_calls:
        calls = [_tool_call(call, index) for index, call in enumerate(completion.tool_calls)]
        events.append(chunk(delta({"tool_calls": calls}), generated=max(completion.completion_tokens - len(text), 0)))
    events.append(chunk(delta({}, completion.finish_reason)))
    cumulative = _usage(completion, prompt, completion.completion_tokens, run_endpoint)
    if run_endpoint:
        events.append(chunk([]))
        events.append(frame({"response": "", "usage": cumulative}))
    elif include_usage:
        events.append(frame({"choices": [], **head, "object": "chat.completion.chunk", "usage": cumulative}))
    return [*events, DONE]

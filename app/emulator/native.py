"""The native Workers AI text shape: {response, tool_calls, usage}, and its SSE stream."""

from __future__ import annotations

from typing import Any

from app.emulator.completion import Completion, ToolCall
from app.emulator.models import ToolStyle
from app.emulator.sse import DONE, frame, padding
from app.emulator.tokens import tokenize, usage


def tool_call_item(call: ToolCall, style: ToolStyle) -> dict[str, Any]:
    """Legacy `{name, arguments}` or llama-4-scout's `{id, type, function: {name, arguments}}`."""
    if style is ToolStyle.SCOUT:
        return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
    return {"name": call.name, "arguments": call.arguments}


def result(completion: Completion) -> dict[str, Any]:
    """`{response, tool_calls, usage}`; `{response, usage}` for the prompt form."""
    response: Any = completion.json_value if completion.json_value is not None else completion.content
    body: dict[str, Any] = {"response": response}
    if not completion.request.is_prompt or completion.tool_calls:
        body["tool_calls"] = [tool_call_item(call, completion.spec.tool_style) for call in completion.tool_calls]
    body["usage"] = usage(completion.prompt_tokens, completion.completion_tokens, completion.cached_tokens)
    return body


def stream_events(completion: Completion) -> list[bytes]:
    """One padded event per token, an empty event, the cumulative usage event, then [DONE]."""
    tokens = tokenize(completion.content or "")  # a scripted reply may say something before its tool calls
    events: list[dict[str, Any]] = [{"response": token, "p": padding()} for token in tokens]
    if completion.tool_calls:
        calls = [tool_call_item(call, completion.spec.tool_style) for call in completion.tool_calls]
        events.append({"response": "", "tool_calls": calls})
    else:
        events.append({"response": ""})
    final = usage(completion.prompt_tokens, completion.completion_tokens, completion.cached_tokens)
    events.append({"response": "", "usage": final})
    return [frame(event) for event in events] + [DONE]

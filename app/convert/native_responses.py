"""gpt-oss's own Responses shape on /ai/run: a Responses request as `{input, reasoning}`, and the
Response object it answers (`output[]`) as a chat choice the Response builder reads. Pure.

The model schema takes `input` and `reasoning` only, so a request that needs more (function tools,
`text.format`, a token limit, sampling, images) goes the chat way, as every other model's does.
"""

from __future__ import annotations

from typing import Any

from app.convert.results import Choice, Usage, new_id, usage_from
from app.errors import UpstreamError
from app.protocol.responses import (
    FunctionCallItem,
    FunctionCallOutputItem,
    ImagePart,
    Item,
    MessageItem,
    ResponseRequest,
    TextPart,
)


def fits(request: ResponseRequest, items: list[Item]) -> bool:
    """Whether the native input can say all the request asks for."""
    if request.tools or request.max_output_tokens is not None or request.temperature is not None:
        return False
    if request.top_p is not None or (request.text and request.text.format and request.text.format.type != "text"):
        return False
    return not any(
        isinstance(item, MessageItem)
        and not isinstance(item.content, str)
        and any(isinstance(p, ImagePart) for p in item.content)
        for item in items
    )


def native_payload(request: ResponseRequest, items: list[Item]) -> dict[str, Any]:
    """`{input, reasoning}`: instructions as a system message first, a string input last."""
    converted: list[dict[str, Any]] = []
    if request.instructions:
        converted.append({"role": "system", "content": request.instructions})
    for item in items:
        if isinstance(item, MessageItem):
            content = item.content if isinstance(item.content, str) else _text(item.content)
            converted.append({"role": item.role, "content": content})
        elif isinstance(item, FunctionCallItem):
            call = {"type": "function_call", "call_id": item.call_id, "name": item.name, "arguments": item.arguments}
            converted.append(call)
        elif isinstance(item, FunctionCallOutputItem):
            output = item.output if isinstance(item.output, str) else _text(item.output)
            converted.append({"type": "function_call_output", "call_id": item.call_id, "output": output})
    if isinstance(request.input, str):
        converted.append({"role": "user", "content": request.input})
    payload: dict[str, Any] = {
        "input": request.input if isinstance(request.input, str) and len(converted) == 1 else converted
    }
    if request.reasoning is not None:
        reasoning = {"effort": request.reasoning.effort, "summary": request.reasoning.summary}
        effort = reasoning["effort"]
        reasoning["effort"] = "low" if effort == "minimal" else effort
        payload["reasoning"] = {k: v for k, v in reasoning.items() if v is not None}
    return payload


def _text(parts: list[Any]) -> str:
    return "\n".join(part.text for part in parts if isinstance(part, TextPart))


def native_choice(result: Any) -> tuple[Choice, Usage | None]:
    """A Response object's output items as a choice: reasoning text, message text, function calls."""
    if not isinstance(result, dict) or not isinstance(result.get("output"), list):
        raise UpstreamError("Workers AI answered a Responses input without `output`.", code="upstream_bad_response")
    reasoning: list[str] = []
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in result["output"]:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "reasoning":
            parts = item.get("content") or item.get("summary") or []
            reasoning.extend(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        elif kind == "message":
            parts = item.get("content") or []
            text.extend(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        elif kind == "function_call":
            call_id = item.get("call_id") or new_id("call_")
            function = {"name": str(item.get("name") or ""), "arguments": str(item.get("arguments") or "{}")}
            calls.append({"id": call_id, "type": "function", "function": function})
    finish = "tool_calls" if calls else "length" if result.get("status") == "incomplete" else "stop"
    choice = Choice("".join(text) if text or not calls else None, "".join(reasoning) or None, calls, finish)
    raw = result.get("usage")
    usage = None
    if isinstance(raw, dict):
        details = raw.get("input_tokens_details")
        usage = usage_from(
            {
                "prompt_tokens": raw.get("input_tokens"),
                "completion_tokens": raw.get("output_tokens"),
                **({"prompt_tokens_details": details} if isinstance(details, dict) else {}),
            }
        )
    return choice, usage

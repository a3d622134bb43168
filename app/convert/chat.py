"""OpenAI chat requests -> Workers AI run payloads."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from app.catalog import Model
from app.convert.params import max_tokens_for, sampling
from app.convert.text import prompt_chars, tokens_for_chars
from app.errors import InvalidRequest
from app.protocol.openai import ChatCompletionRequest, ChatMessage, ContentPart, ToolCall

_NINE_ALNUM = re.compile(r"[A-Za-z0-9]{9}")
_ROLES = {"developer": "system", "function": "tool"}


def short_tool_id(tool_call_id: str) -> str:
    """A stable 9-letter/digit id for models that demand one (the same input always maps the same)."""
    if _NINE_ALNUM.fullmatch(tool_call_id):
        return tool_call_id
    return hashlib.sha256(tool_call_id.encode()).hexdigest()[:9]


def chat_payload(
    request: ChatCompletionRequest, model: Model, *, default_max_tokens: int, stream: bool
) -> dict[str, Any]:
    """The Workers AI body for a chat request."""
    messages = [_message(message, i, model) for i, message in enumerate(request.messages)]
    prompt_tokens = tokens_for_chars(prompt_chars({"messages": messages}))
    requested = request.max_completion_tokens or request.max_tokens
    payload: dict[str, Any] = {
        "messages": messages,
        "max_tokens": max_tokens_for(model, requested, default_max_tokens, prompt_tokens),
        **sampling(request, model),
    }
    payload.update(_tools(request, model))
    if request.response_format is not None and request.response_format.type != "text":
        payload["response_format"] = _response_format(request, model)
    if model.openai_shaped:
        if request.stop:
            payload["stop"] = request.stop
        if request.reasoning_effort is not None:
            payload["reasoning_effort"] = request.reasoning_effort
    if stream:
        payload["stream"] = True
        if model.openai_shaped:
            payload["stream_options"] = {"include_usage": True}
    return payload


def wants_json(request: ChatCompletionRequest) -> bool:
    return request.response_format is not None and request.response_format.type != "text"


def _message(message: ChatMessage, index: int, model: Model) -> dict[str, Any]:
    role = _ROLES.get(message.role, message.role)
    out: dict[str, Any] = {"role": role, "content": _content(message.content, index, model)}
    if message.tool_calls:
        out["tool_calls"] = [_tool_call(call, model) for call in message.tool_calls]
    if role == "tool":
        call_id = message.tool_call_id or message.name or f"call{index}"
        out["tool_call_id"] = short_tool_id(call_id) if model.short_tool_ids else call_id
    if message.name and role in ("tool", "user"):
        out["name"] = message.name
    return out


def _content(content: str | list[ContentPart] | None, index: int, model: Model) -> str | list[dict[str, Any]]:
    """Workers AI rejects `null` and (on most models) arrays: send text, or data-URI images to vision
    models."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    images = [part for part in content if part.type == "image_url"]
    if images and not model.vision:
        raise InvalidRequest(
            f"The model `{model.id}` does not accept images; use a vision model such as "
            "@cf/meta/llama-4-scout-17b-16e-instruct.",
            param=f"messages[{index}].content",
            code="image_not_supported",
        )
    if not images:
        return "\n".join(part.text for part in content if part.type == "text" and part.text)
    parts: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        if part.type == "text" and part.text:
            parts.append({"type": "text", "text": part.text})
        elif part.type == "image_url" and part.image_url is not None:
            # Web addresses were fetched into data URIs by the serving layer (app/serving/image_urls.py).
            if not part.image_url.url.startswith("data:image/"):
                raise InvalidRequest(
                    "An image must be an https URL or a data URI of an image (data:image/png;base64,...).",
                    param=f"messages[{index}].content[{number}].image_url.url",
                    code="invalid_image_url",
                )
            parts.append({"type": "image_url", "image_url": {"url": part.image_url.url}})
    return parts


def _tool_call(call: ToolCall, model: Model) -> dict[str, Any]:
    arguments = call.function.arguments
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments).decode()
    call_id = call.id or "call"
    return {
        "id": short_tool_id(call_id) if model.short_tool_ids else call_id,
        "type": "function",
        "function": {"name": call.function.name, "arguments": arguments or "{}"},
    }


def _tools(request: ChatCompletionRequest, model: Model) -> dict[str, Any]:
    if not request.tools or request.tool_choice == "none":
        return {}
    tools = [tool.model_dump(exclude_none=True) for tool in request.tools]
    choice = request.tool_choice
    if choice is not None and not isinstance(choice, str):
        tools = [t for t in tools if t["function"]["name"] == choice.function.name]
        if not tools:
            raise InvalidRequest(
                f"tool_choice names `{choice.function.name}`, which is not in tools.", param="tool_choice"
            )
    out: dict[str, Any] = {"tools": tools}
    if model.openai_shaped and choice is not None:
        out["tool_choice"] = choice if isinstance(choice, str) else choice.model_dump()
    return out


def _response_format(request: ChatCompletionRequest, model: Model) -> dict[str, Any]:
    """JSON mode. Native models take the bare schema; OpenAI-shaped ones OpenAI's wrapper."""
    fmt = request.response_format
    assert fmt is not None
    if fmt.type == "json_object" or fmt.json_schema is None:
        return {"type": "json_object"}
    schema = fmt.json_schema.schema_ or {"type": "object"}
    if model.openai_shaped:
        return {
            "type": "json_schema",
            "json_schema": fmt.json_schema.model_dump(by_alias=True, exclude_none=True),
        }
    return {"type": "json_schema", "json_schema": schema}

"""Responses API requests -> the chat request the chat path serves, and chat answers -> Response objects.

Pure. The chat request is built with `model_construct` (its parts were validated as Responses items
already), so the reshaping costs no second validation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from app.catalog import Model
from app.convert.results import Choice, Usage, new_id
from app.errors import InvalidRequest
from app.protocol.openai import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    FunctionCall,
    FunctionDefinition,
    ImageURL,
    JSONSchemaFormat,
    NamedToolChoice,
    NamedToolChoiceFunction,
    ResponseFormat,
    Tool,
    ToolCall,
)
from app.protocol.responses import (
    ITEMS,
    FunctionCallItem,
    FunctionCallOutputItem,
    ImagePart,
    Item,
    MessageItem,
    Parts,
    ResponseRequest,
    TextPart,
)

INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
M = TypeVar("M", bound=BaseModel)


@functools.cache
def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    return {name: info.get_default(call_default_factory=True) for name, info in cls.model_fields.items()}


def _new(cls: type[M], **values: Any) -> M:
    """`cls.model_construct(**values)` at a fifth of its cost (it works each default out per call, which
    was a third of a Responses request); only for the chat wire models, whose defaults are immutable."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", {**_defaults(cls), **values})
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def input_items(request: ResponseRequest) -> list[Item]:
    """`input` as items (a string is one user message)."""
    if isinstance(request.input, str):
        return [MessageItem.model_construct(type="message", role="user", content=request.input)]
    return list(request.input)


def check_images(items: list[Item], model: Model) -> list[tuple[str, ImageURL, ImagePart]]:
    """The image parts that carry a web address (to fetch), each with its `param`; a 400 where the model
    takes no images or a part has no image."""
    found: list[tuple[str, ImageURL, ImagePart]] = []
    for i, item in enumerate(items):
        if not isinstance(item, MessageItem) or isinstance(item.content, str):
            continue
        for j, part in enumerate(item.content):
            if not isinstance(part, ImagePart):
                continue
            param = f"input[{i}].content[{j}]"
            if not model.vision:
                raise InvalidRequest(
                    f"The model `{model.id}` does not accept images; use a vision model such as "
                    "@cf/meta/llama-4-scout-17b-16e-instruct.",
                    param=param,
                    code="image_not_supported",
                )
            if not part.image_url:
                raise InvalidRequest(
                    "An input_image needs `image_url` (an https URL or a data URI); file ids are not supported.",
                    param=f"{param}.image_url",
                    code="invalid_image_url",
                )
            if not part.image_url.startswith("data:"):
                found.append((f"{param}.image_url", _new(ImageURL, url=part.image_url, detail=None), part))
    return found


def chat_request(request: ResponseRequest, items: list[Item]) -> ChatCompletionRequest:
    """The chat request with the same meaning: instructions first, items as messages, options renamed."""
    messages: list[ChatMessage] = []
    if request.instructions:
        messages.append(_new(ChatMessage, role="system", content=request.instructions))
    for item in items:
        _append(messages, item)
    if not messages:
        raise InvalidRequest("`input` holds nothing to answer.", param="input", code="invalid_value")
    fmt = request.text.format if request.text else None
    return _new(
        ChatCompletionRequest,
        model=request.model,
        messages=messages,
        max_completion_tokens=request.max_output_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        tools=[_tool(tool) for tool in request.tools] if request.tools else None,
        tool_choice=_tool_choice(request),
        parallel_tool_calls=request.parallel_tool_calls,
        response_format=_format(fmt) if fmt is not None and fmt.type != "text" else None,
        reasoning_effort=request.reasoning.effort if request.reasoning else None,
        stream=request.stream,
        user=request.user,
    )


def _append(messages: list[ChatMessage], item: Item) -> None:
    if isinstance(item, MessageItem):
        messages.append(_new(ChatMessage, role=item.role, content=_content(item.content)))
    elif isinstance(item, FunctionCallItem):
        call = _new(
            ToolCall,
            id=item.call_id,
            type="function",
            function=_new(FunctionCall, name=item.name, arguments=item.arguments),
        )
        last = messages[-1] if messages else None
        if last is not None and last.role == "assistant":  # calls that followed text, or each other
            last.tool_calls = [*(last.tool_calls or []), call]
        else:
            messages.append(_new(ChatMessage, role="assistant", content="", tool_calls=[call]))
    elif isinstance(item, FunctionCallOutputItem):
        output = item.output if isinstance(item.output, str) else _text(item.output)
        messages.append(_new(ChatMessage, role="tool", content=output, tool_call_id=item.call_id))
    # ReasoningItem: the model's own earlier thinking is not sent back (Workers AI models take none).


def _text(parts: Parts) -> str:
    return "\n".join(part.text for part in parts if isinstance(part, TextPart))


def _content(content: str | Parts) -> str | list[ContentPart]:
    if isinstance(content, str):
        return content
    if not any(isinstance(part, ImagePart) for part in content):
        return _text(content)
    out: list[ContentPart] = []
    for part in content:
        if isinstance(part, TextPart):
            out.append(_new(ContentPart, type="text", text=part.text, image_url=None))
        elif isinstance(part, ImagePart) and part.image_url:
            url = _new(ImageURL, url=part.image_url, detail=None)
            out.append(_new(ContentPart, type="image_url", text=None, image_url=url))
    return out


def _tool(tool: Any) -> Tool:
    function = _new(
        FunctionDefinition, name=tool.name, description=tool.description, parameters=tool.parameters, strict=tool.strict
    )
    return _new(Tool, type="function", function=function)


def _tool_choice(request: ResponseRequest) -> Any:
    choice = request.tool_choice
    if choice is None or isinstance(choice, str):
        return choice
    return _new(NamedToolChoice, type="function", function=_new(NamedToolChoiceFunction, name=choice.name))


def _format(fmt: Any) -> ResponseFormat:
    if fmt.type == "json_object":
        return _new(ResponseFormat, type="json_object", json_schema=None)
    schema = _new(
        JSONSchemaFormat,
        name=fmt.name,
        description=fmt.description,
        schema_=fmt.schema_ or {"type": "object"},
        strict=fmt.strict,
    )
    return _new(ResponseFormat, type="json_schema", json_schema=schema)


@dataclass(slots=True)
class Answer:
    """One answer's identity and the request fields a Response object repeats back."""

    id: str
    created_at: int
    model: str
    echo: dict[str, Any]

    @classmethod
    def of(cls, request: ResponseRequest, model: str, created_at: int) -> Answer:
        text = request.text.model_dump(by_alias=True, exclude_none=True) if request.text else {}
        echo = {
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "metadata": request.metadata or {},
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": request.previous_response_id,
            "reasoning": request.reasoning.model_dump() if request.reasoning else {"effort": None, "summary": None},
            "store": request.store,
            "temperature": request.temperature,
            "text": {"format": {"type": "text"}, **text},
            "tool_choice": _echo_choice(request),
            "tools": [tool.model_dump(exclude_none=True) for tool in request.tools or ()],
            "top_p": request.top_p,
            "truncation": "disabled",
            "user": request.user,
        }
        return cls(new_id("resp_"), created_at, model, echo)

    def response(self, status: str, output: list[dict[str, Any]], usage: Usage | None, **extra: Any) -> dict[str, Any]:
        """The Response object (`usage` None while in progress)."""
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "model": self.model,
            "output": output,
            **self.echo,
            "usage": usage_of(usage) if usage is not None else None,
            **extra,
        }


def _echo_choice(request: ResponseRequest) -> Any:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    return choice if isinstance(choice, str) else choice.model_dump()


def usage_of(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def ending(finish_reason: str) -> tuple[str, dict[str, Any]]:
    """The status of a finished answer and its `incomplete_details`."""
    reason = INCOMPLETE.get(finish_reason)
    if reason is None:
        return "completed", {}
    return "incomplete", {"incomplete_details": {"reason": reason}}


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": [part]}


def call_item(item_id: str, call_id: str, name: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def output_of(choice: Choice) -> list[dict[str, Any]]:
    """A chat choice as output items: reasoning, then the message, then function calls."""
    items: list[dict[str, Any]] = []
    status = "incomplete" if choice.finish_reason in INCOMPLETE else "completed"
    if choice.reasoning:
        items.append(reasoning_item(new_id("rs_"), choice.reasoning))
    if choice.content or not choice.tool_calls:
        items.append(message_item(new_id("msg_"), choice.content or "", status))
    for call in choice.tool_calls:
        fn = call["function"]
        items.append(call_item(new_id("fc_"), call["id"], fn["name"], fn["arguments"]))
    return items


def response_of(answer: Answer, choice: Choice, usage: Usage) -> dict[str, Any]:
    status, extra = ending(choice.finish_reason)
    return answer.response(status, output_of(choice), usage, **extra)


def history(stored: list[dict[str, Any]], output: list[dict[str, Any]]) -> list[Item]:
    """The items a continuation starts from: the earlier input, then the earlier answer's output."""
    return ITEMS.validate_python([*stored, *output])

"""Responses API requests -> the chat request the chat path serves (answers: `response_output.py`).

Pure. The chat request is built without validation (its parts were validated as Responses items
already), so the reshaping costs no second validation.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import orjson
from pydantic import BaseModel

from app.catalog import Model
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
    FunctionTool,
    ImagePart,
    Item,
    MessageItem,
    NamespaceTool,
    Parts,
    ResponseRequest,
    TextPart,
)

M = TypeVar("M", bound=BaseModel)


_WIRE: tuple[type[BaseModel], ...] = (ChatCompletionRequest, ChatMessage, ContentPart, FunctionCall, FunctionDefinition)
_WIRE += (
    ImageURL,
    JSONSchemaFormat,
    NamedToolChoice,
    NamedToolChoiceFunction,
    ResponseFormat,
    Tool,
    ToolCall,
    MessageItem,
)
_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {
    cls: {name: info.get_default(call_default_factory=True) for name, info in cls.model_fields.items()} for cls in _WIRE
}
# BaseModel's own slots, set straight through their descriptors (`object.__setattr__` looks each one up)
_SLOTS = [BaseModel.__dict__[name].__set__ for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__")]
_set_dict, _set_fields, _set_extra = _SLOTS
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _new(cls: type[M], **values: Any) -> M:
    """`cls.model_construct(**values)` at a tenth of its cost (it works each default out per call, which
    was a third of a Responses request); only for the chat wire models, whose defaults are immutable."""
    obj = object.__new__(cls)
    _set_dict(obj, {**_DEFAULTS[cls], **values})
    _set_fields(obj, set(values))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


# The chat request and its messages are only read on the chat path (`Call.for_chat`, `chat_payload`), so they
# are built as plain objects that read as the models do: each model's fields, its defaults as class
# attributes. Built unvalidated, a pydantic model still cost 7,000-10,000 instructions, a view about 2,500;
# the two made a Responses request's reshaping cost half as much again as a chat request's own conversion.
_VIEWS: dict[type[BaseModel], type] = {
    cls: type(f"{cls.__name__}View", (), {"__doc__": f"`{cls.__name__}`, read-only.", **_DEFAULTS[cls]})
    for cls in (ChatCompletionRequest, ChatMessage)
}


def _view(cls: type[M], values: dict[str, Any]) -> M:
    """An object that reads as a `cls` with `values` (and the defaults) would; only for `_VIEWS`."""
    obj: Any = object.__new__(_VIEWS[cls])
    obj.__dict__.update(values)
    return cast(M, obj)


def input_items(request: ResponseRequest) -> list[Item]:
    """`input` as items (a string is one user message)."""
    if isinstance(request.input, str):
        return [_new(MessageItem, role="user", content=request.input)]
    return list(request.input)


def listed_items(request: ResponseRequest) -> list[Item]:
    """The items of a list `input`; a string `input` is not an item yet (`chat_request` and
    `stored_input` add it last, without building the item: a third of the reshaping's cost)."""
    return [] if isinstance(request.input, str) else list(request.input)


def stored_input(request: ResponseRequest, items: list[Item]) -> bytes:
    """The items a stored response answered (`items`, then a string `input`), as JSON for `history`."""
    if not isinstance(request.input, str):
        return ITEMS.dump_json(items, by_alias=True, exclude_none=True)
    text = b'[{"type":"message","role":"user","content":' + orjson.dumps(request.input) + b"}]"
    if not items:
        return text
    return ITEMS.dump_json(items, by_alias=True, exclude_none=True)[:-1] + b"," + text[1:]


def echo_of(request: ResponseRequest) -> dict[str, Any]:
    """The request fields a Response object repeats back."""
    return {
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "metadata": request.metadata or {},
        "parallel_tool_calls": request.parallel_tool_calls is not False,
        "previous_response_id": request.previous_response_id,
        "reasoning": request.reasoning.model_dump() if request.reasoning else _NO_REASONING,
        "store": request.store,
        "temperature": request.temperature,
        "text": {"format": {"type": "text"}, **request.text.model_dump(by_alias=True, exclude_none=True)}
        if request.text
        else _TEXT,
        "tool_choice": _echo_choice(request),
        "tools": [tool.model_dump(exclude_none=True) for tool in request.tools] if request.tools else [],
        "top_p": request.top_p,
        "truncation": "disabled",
        "user": request.user,
    }


def echo_json(request: ResponseRequest) -> bytes:
    """`echo_of` as JSON members. A request with none of the structured fields (tools, text, reasoning,
    metadata, tool_choice), as most are, repeats the same members as the last one like it: cached, all but
    `previous_response_id` (last, and different in every continuation)."""
    plain = not (request.tools or request.text or request.reasoning or request.metadata or request.tool_choice)
    if not plain or (request.instructions is not None and len(request.instructions) > _CACHED_INSTRUCTIONS):
        return orjson.dumps(echo_of(request))[1:-1]
    key = (
        request.instructions,
        request.max_output_tokens,
        request.parallel_tool_calls is not False,
        request.store,
        request.temperature,
        request.top_p,
        request.user,
    )
    members = _PLAIN_ECHOES.get(key) or _plain_echo(key)
    previous = request.previous_response_id
    if previous is None:
        return members
    return members[: -len(_NULL)] + orjson.dumps(previous)


_CACHED_INSTRUCTIONS = 2000
_NULL = b"null"
_PLAIN_ECHOES: dict[tuple[Any, ...], bytes] = {}


def _plain_echo(key: tuple[Any, ...]) -> bytes:
    """The members of a plain request's echo, `previous_response_id` null; kept for the next like it."""
    instructions, max_output_tokens, parallel_tool_calls, store, temperature, top_p, user = key
    fields: dict[str, Any] = {
        "instructions": instructions,
        "max_output_tokens": max_output_tokens,
        "metadata": {},
        "parallel_tool_calls": parallel_tool_calls,
        "reasoning": _NO_REASONING,
        "store": store,
        "temperature": temperature,
        "text": _TEXT,
        "tool_choice": "auto",
        "tools": [],
        "top_p": top_p,
        "truncation": "disabled",
        "user": user,
        "previous_response_id": None,
    }
    members = orjson.dumps(fields)[1:-1]
    if len(_PLAIN_ECHOES) >= 256:  # a bound, as the lru_cache it replaces had (the oldest goes)
        del _PLAIN_ECHOES[next(iter(_PLAIN_ECHOES))]
    _PLAIN_ECHOES[key] = members
    return members


_NO_REASONING = {"effort": None, "summary": None}
_TEXT = {"format": {"type": "text"}}


def _echo_choice(request: ResponseRequest) -> Any:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    return choice if isinstance(choice, str) else choice.model_dump()


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
        messages.append(_view(ChatMessage, {"role": "system", "content": request.instructions}))
    for item in items:
        _append(messages, item)
    if isinstance(request.input, str):
        messages.append(_view(ChatMessage, {"role": "user", "content": request.input}))
    if not messages:
        raise InvalidRequest("`input` holds nothing to answer.", param="input", code="invalid_value")
    chat: dict[str, Any] = {"model": request.model, "messages": messages, "stream": request.stream}
    # Only what was given: the rest stays the chat request's default.
    if request.max_output_tokens is not None:
        chat["max_completion_tokens"] = request.max_output_tokens
    if request.temperature is not None:
        chat["temperature"] = request.temperature
    if request.top_p is not None:
        chat["top_p"] = request.top_p
    if request.parallel_tool_calls is not None:
        chat["parallel_tool_calls"] = request.parallel_tool_calls
    if request.user is not None:
        chat["user"] = request.user
    tools = function_tools(request)
    if tools:
        chat["tools"] = [_tool(tool) for tool in tools]
    if request.tool_choice is not None:
        chat["tool_choice"] = _tool_choice(request.tool_choice)
    fmt = request.text.format if request.text else None
    if fmt is not None and fmt.type != "text":
        chat["response_format"] = _format(fmt)
    if request.reasoning and request.reasoning.effort:
        chat["reasoning_effort"] = request.reasoning.effort
    return _view(ChatCompletionRequest, chat)


def _append(messages: list[ChatMessage], item: Item) -> None:
    if isinstance(item, MessageItem):
        messages.append(_view(ChatMessage, {"role": item.role, "content": _content(item.content)}))
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
            messages.append(_view(ChatMessage, {"role": "assistant", "content": "", "tool_calls": [call]}))
    elif isinstance(item, FunctionCallOutputItem):
        output = item.output if isinstance(item.output, str) else _text(item.output)
        messages.append(_view(ChatMessage, {"role": "tool", "content": output, "tool_call_id": item.call_id}))
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


def function_tools(request: ResponseRequest) -> list[FunctionTool]:
    """The functions the model is offered: function tools, and each namespace's functions under their own
    names; hosted tools (web search...) run at OpenAI only, so they are left out."""
    out: list[FunctionTool] = []
    for tool in request.tools or ():
        if isinstance(tool, FunctionTool):
            out.append(tool)
        elif isinstance(tool, NamespaceTool):
            out.extend(tool.tools)
    return out


def namespaces_of(request: ResponseRequest) -> dict[str, str]:
    """Which `namespace` tool each of its functions came in, for the function_call items that answer it."""
    return {fn.name: tool.name for tool in request.tools or () if isinstance(tool, NamespaceTool) for fn in tool.tools}


def _tool(tool: Any) -> Tool:
    function = _new(
        FunctionDefinition, name=tool.name, description=tool.description, parameters=tool.parameters, strict=tool.strict
    )
    return _new(Tool, type="function", function=function)


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str):
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


def history(stored: list[dict[str, Any]], output: list[dict[str, Any]]) -> list[Item]:
    """The items a continuation starts from: the earlier input, then the earlier answer's output."""
    return ITEMS.validate_python([*stored, *output])

"""Anthropic Messages requests -> the chat request the chat path serves; chat answers -> Anthropic messages.

Pure. The chat request is built without validation (the Anthropic body was validated already), so the
Messages path costs the chat path plus this reshaping, not a second validation.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.convert.results import Choice, Usage, new_id
from app.convert.text import IMAGE_CHARS, tokens_for_chars
from app.errors import InvalidRequest
from app.protocol.anthropic import (
    ContentBlock,
    CountTokensRequest,
    ImageSource,
    Message,
    MessagesRequest,
    ToolDefinition,
)
from app.protocol.openai import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    FunctionCall,
    FunctionDefinition,
    ImageURL,
    NamedToolChoice,
    NamedToolChoiceFunction,
    Tool,
    ToolCall,
)

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}
# Anthropic's thinking budget -> the reasoning effort of models that take one (gpt-oss, qwen3).
EFFORT_BUDGETS = ((4096, "low"), (16384, "medium"))
_DROPPED = ("thinking", "redacted_thinking")  # sent back by clients; Workers AI takes no reasoning input
# Blank instances, copied with the fields set: `model_construct` works out each of a model's ~25 defaults on
# every call (20 us a ChatCompletionRequest, 40% of a whole answer's cost in bench.instructions); a copy
# of one whose defaults were worked out once is a dict copy.
_REQUEST = ChatCompletionRequest.model_construct(model="", messages=[])
_MESSAGE = ChatMessage.model_construct(role="user")


def chat_request(request: CountTokensRequest, *, stream: bool = False) -> ChatCompletionRequest:
    """The chat request a Messages (or count_tokens) request stands for."""
    messages = _system(request)
    for index, message in enumerate(request.messages):
        if message.role != "system":
            messages.extend(_messages(message, index))
    fields: dict[str, Any] = {"model": request.model, "messages": _combined(messages), "stream": stream}
    tools = [_tool(i, tool) for i, tool in _offered(request)]
    if tools and not (request.tool_choice and request.tool_choice.type == "none"):
        fields["tools"] = tools
        fields["tool_choice"] = _tool_choice(request)
    if isinstance(request, MessagesRequest):
        fields.update(
            max_tokens=request.max_tokens,
            stop=request.stop_sequences,
            temperature=request.temperature,
            top_p=request.top_p,
            top_k=request.top_k,
        )
    fields["reasoning_effort"] = _effort(request)
    return _REQUEST.model_copy(update=fields)


def thinking(request: CountTokensRequest) -> bool:
    """Whether the client asked to see the model's thinking (Anthropic shows none unless asked)."""
    asked = request.thinking
    return asked is not None and asked.type != "disabled" and asked.display != "omitted"


def _effort(request: CountTokensRequest) -> str | None:
    """`output_config.effort`, else the thinking budget, as a reasoning effort (gpt-oss, qwen3 take one)."""
    config = request.output_config
    if config is not None and config.effort is not None:
        return config.effort if config.effort in ("low", "medium", "high") else "high"
    budget = request.thinking.budget_tokens if request.thinking and request.thinking.type != "disabled" else None
    if not budget:
        return None
    return next((effort for limit, effort in EFFORT_BUDGETS if budget < limit), "high")


def _system(request: CountTokensRequest) -> list[ChatMessage]:
    """`system`, then the text of any system turn in `messages` (Claude Code sends its environment as one):
    Workers AI chat templates take one system prompt, first, so the turns are folded into it in order."""
    system = request.system
    texts = [system] if isinstance(system, str) else [block.text for block in system or ()]
    for index, message in enumerate(request.messages):
        if message.role == "system":
            texts.append(_system_text(message, index))
    text = "\n\n".join(text for text in texts if text)
    return [_message(role="system", content=text)] if text else []


def _system_text(message: Message, index: int) -> str:
    if isinstance(message.content, str):
        return message.content
    for number, block in enumerate(message.content):
        if block.type != "text":
            where = f"messages[{index}].content[{number}].type"
            raise InvalidRequest(f"A `{block.type}` block cannot be in a system message.", param=where)
    return "\n\n".join(block.text or "" for block in message.content)


def _offered(request: CountTokensRequest) -> list[tuple[int, ToolDefinition]]:
    """The client tools the model may call now, with their places. Anthropic's server tools (web search, code
    execution) run at Anthropic: there is nothing to call here. A `defer_loading` tool stays hidden until a
    tool search result references it, as Anthropic's API does."""
    tools = list(enumerate(request.tools or ()))
    found = _referenced(request) if any(tool.defer_loading for _, tool in tools) else set()
    return [(i, t) for i, t in tools if t.type in (None, "custom") and (not t.defer_loading or t.name in found)]


def _referenced(request: CountTokensRequest) -> set[str]:
    """The tools named by `tool_reference` blocks in tool results (what tool searches found)."""
    names: set[str] = set()
    for message in request.messages:
        for block in message.content if not isinstance(message.content, str) else ():
            if block.type == "tool_result" and isinstance(block.content, list):
                names.update(part.tool_name for part in block.content if part.tool_name)
    return names


def _combined(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Consecutive user (or assistant) turns as one, as Anthropic combines them: once system turns are folded
    away, two user turns can meet, and several models' chat templates refuse roles that do not alternate."""
    out: list[ChatMessage] = []
    for item in messages:
        last = out[-1] if out else None
        if last is None or item.role != last.role or item.role not in ("user", "assistant"):
            out.append(item)
            continue
        calls = [*(last.tool_calls or ()), *(item.tool_calls or ())]
        fields: dict[str, Any] = {"content": _joined(last.content, item.content)}
        if calls:
            fields["tool_calls"] = calls
        out[-1] = last.model_copy(update=fields)
    return out


def _joined(first: Any, second: Any) -> Any:
    if isinstance(first, str) and isinstance(second, str):
        return f"{first}\n\n{second}" if first and second else first or second
    return [*_parts(first), *_parts(second)]


def _parts(content: Any) -> list[ContentPart]:
    if isinstance(content, str):
        return [ContentPart.model_construct(type="text", text=content)] if content else []
    return list(content or ())


def _messages(message: Message, index: int) -> list[ChatMessage]:
    """One Anthropic message: tool results become tool messages (first, in order), the rest one message."""
    if isinstance(message.content, str):
        return [_message(role=message.role, content=message.content)]
    out: list[ChatMessage] = []
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for number, block in enumerate(message.content):
        where = f"messages[{index}].content[{number}]"
        if block.type in _DROPPED:
            continue
        if block.type == "text":
            parts.append(ContentPart.model_construct(type="text", text=block.text or ""))
        elif block.type == "image":
            parts.append(_image(block.source, where))
        elif block.type == "tool_use" and message.role == "assistant":
            calls.append(_call(block, where))
        elif block.type == "tool_result" and message.role == "user":
            out.append(_tool_result(block, where))
        else:
            raise InvalidRequest(
                f"A `{block.type}` block cannot be in a {message.role} message.", param=f"{where}.type"
            )
    if parts or calls or not out:
        content = parts[0].text if len(parts) == 1 and parts[0].type == "text" else parts
        fields: dict[str, Any] = {"role": message.role, "content": content}
        if calls:
            fields["tool_calls"] = calls
        out.append(_message(**fields))
    return out


def _image(source: ImageSource | None, where: str) -> ContentPart:
    if source is None:
        raise InvalidRequest("An image block needs a `source`.", param=f"{where}.source")
    if source.type == "url":
        if not source.url:
            raise InvalidRequest("An image `source` of type url needs a `url`.", param=f"{where}.source.url")
        url = source.url
    else:
        if not source.data or not source.media_type or not source.media_type.startswith("image/"):
            raise InvalidRequest(
                "A base64 image `source` needs `media_type` (image/png, image/jpeg...) and `data`.",
                param=f"{where}.source",
            )
        url = f"data:{source.media_type};base64,{source.data}"
    return ContentPart.model_construct(type="image_url", image_url=ImageURL.model_construct(url=url))


def _call(block: ContentBlock, where: str) -> ToolCall:
    if not block.name:
        raise InvalidRequest("A `tool_use` block needs a `name`.", param=f"{where}.name")
    arguments = orjson.dumps(block.input if block.input is not None else {}).decode()
    function = FunctionCall.model_construct(name=block.name, arguments=arguments)
    return ToolCall.model_construct(id=block.id or new_id("toolu_"), function=function)


def _tool_result(block: ContentBlock, where: str) -> ChatMessage:
    if not block.tool_use_id:
        raise InvalidRequest("A `tool_result` block needs a `tool_use_id`.", param=f"{where}.tool_use_id")
    content = block.content
    if content is not None and not isinstance(content, str):
        content = "\n".join(text for part in content if (text := _result_text(part)))
    text = content or ""
    if block.is_error:
        text = f"Error: {text}"
    return _message(role="tool", content=text, tool_call_id=block.tool_use_id)


def _result_text(part: Any) -> str:
    """A result block's text; a `tool_reference` tells the model which tool it may now call."""
    if part.type == "tool_reference":
        return f"Tool {part.tool_name} is now available." if part.tool_name else ""
    return str(part.text or "") if part.type == "text" else ""


def _tool(index: int, tool: ToolDefinition) -> Tool:
    if tool.input_schema is None:
        raise InvalidRequest("A client tool needs an `input_schema`.", param=f"tools[{index}].input_schema")
    fn = FunctionDefinition.model_construct(name=tool.name, description=tool.description, parameters=tool.input_schema)
    return Tool.model_construct(function=fn)


def _tool_choice(request: CountTokensRequest) -> str | NamedToolChoice | None:
    choice = request.tool_choice
    if choice is None or choice.type == "auto":
        return None if choice is None else "auto"
    if choice.type == "any":
        return "required"
    if not choice.name:
        raise InvalidRequest("A tool_choice of type `tool` needs a `name`.", param="tool_choice.name")
    return NamedToolChoice.model_construct(function=NamedToolChoiceFunction.model_construct(name=choice.name))


def stop_reason(finish_reason: str, stop_sequence: str | None) -> str:
    if stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS.get(finish_reason, "end_turn")


def message(model: str, choice: Choice, usage: Usage, *, show_thinking: bool) -> dict[str, Any]:
    """A whole chat answer as Anthropic's message: thinking, text, then tool_use blocks."""
    content: list[dict[str, Any]] = []
    if show_thinking and choice.reasoning:
        content.append({"type": "thinking", "thinking": choice.reasoning, "signature": ""})
    if choice.content:
        content.append({"type": "text", "text": choice.content})
    for call in choice.tool_calls:
        content.append(tool_use(call, orjson_input(call["function"]["arguments"])))
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.finish_reason, choice.stop_sequence),
        "stop_sequence": choice.stop_sequence,
        "usage": usage_of(usage),
    }


def tool_use(call: dict[str, Any], arguments: Any) -> dict[str, Any]:
    name = call["function"]["name"]
    return {"type": "tool_use", "id": call.get("id") or new_id("toolu_"), "name": name, "input": arguments}


def orjson_input(arguments: str) -> Any:
    """A tool call's arguments as the object Anthropic's `input` is (a model's broken JSON: wrapped)."""
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def usage_of(usage: Usage) -> dict[str, int]:
    """Anthropic counts cache reads apart: `input_tokens` are the prompt tokens not read from the cache, and
    `cache_read_input_tokens` the rest (Workers AI's `prompt_tokens` include them)."""
    cached = usage.cached_tokens or 0
    body = {"input_tokens": usage.prompt_tokens - cached, "output_tokens": usage.completion_tokens}
    if usage.cached_tokens is not None:
        body["cache_read_input_tokens"] = cached
    return body


def estimate_input_tokens(request: ChatCompletionRequest) -> int:
    """count_tokens: the gateway's usual estimate (about four characters a token, an image as IMAGE_CHARS)
    over the messages, plus the tools' definitions, which the model reads too."""
    chars = 0
    for item in request.messages:
        content = item.content
        if isinstance(content, str):
            chars += len(content)
        elif content:
            chars += sum(len(part.text or "") if part.type == "text" else IMAGE_CHARS for part in content)
        for call in item.tool_calls or ():
            chars += len(call.function.name) + len(str(call.function.arguments))
    for tool in request.tools or ():
        chars += len(orjson.dumps(tool.model_dump(exclude_none=True)))
    return tokens_for_chars(chars)


def _message(**fields: Any) -> ChatMessage:
    return _MESSAGE.model_copy(update=fields)

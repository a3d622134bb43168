"""Validate a text-generation input against the model's schema and reduce it to a TextRequest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from app.emulator.envelope import SchemaError, bad_input, context_overflow
from app.emulator.models import Content, Family, ModelSpec
from app.emulator.tokens import MESSAGE_OVERHEAD, count
from app.emulator.validation import (
    bool_field,
    byte_array,
    enum_field,
    expect_object,
    mismatch,
    number_field,
    string_field,
)

DEFAULT_MAX_TOKENS = 256
CHARS_PER_TOOL_TOKEN = 4  # JSON schemas have few spaces: the whitespace tokenizer would count a tool as one
_TOOL_CALL_ID = re.compile(r"[a-zA-Z0-9]{9}")
_NOT_PROMPT = "oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt', "
_NOT_MESSAGES = "oneOf at '/' not met, 0 matches: "


@dataclass(frozen=True)
class Message:
    role: str
    text: str


@dataclass(frozen=True)
class Tool:
    name: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class TextRequest:
    """What the emulator's deterministic "model" needs from a text-generation input."""

    messages: tuple[Message, ...]
    is_prompt: bool
    max_tokens: int
    stream: bool
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None  # a forced tool name, "none", or None (the first tool)
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    thinking: bool = True
    tool_tokens: int = 0  # the tool definitions, which the chat template puts in the prompt too

    @property
    def prompt_tokens(self) -> int:
        return self.tool_tokens + sum(MESSAGE_OVERHEAD + count(message.text) for message in self.messages)


def parse_text_request(spec: ModelSpec, body: Any) -> TextRequest:
    """Check `body` like the real schema (5006 on failure) and the context window (3030)."""
    body = expect_object(body)
    if "messages" in body:
        try:
            messages = _messages(spec, body["messages"])
        except SchemaError as error:
            raise bad_input(_NOT_PROMPT + error.detail) from None
        is_prompt = False
    elif "prompt" in body:
        try:
            prompt = string_field(body, "prompt", required=True, min_length=1) or ""
        except SchemaError as error:
            raise bad_input(f"{_NOT_MESSAGES}{error.detail}, required properties at '/' are 'messages'") from None
        messages, is_prompt = (Message("user", prompt),), True
    else:
        raise bad_input(_NOT_PROMPT + "required properties at '/' are 'messages'")
    tools = _tools(body)
    request = TextRequest(
        messages=messages,
        is_prompt=is_prompt,
        max_tokens=_max_tokens(spec, body),
        stream=bool_field(body, "stream"),
        tools=tools,
        tool_choice=_tool_choice(body, tools),
        **_response_format(spec, body),
        thinking=_thinking(body),
        tool_tokens=len(orjson.dumps(body["tools"])) // CHARS_PER_TOOL_TOKEN if tools else 0,
    )
    _check_ranges(spec, body)
    if "image" in body and isinstance(body["image"], list):
        byte_array(body["image"], "/image")
    if spec.context_window and request.prompt_tokens > spec.context_window:
        raise context_overflow(request.prompt_tokens, spec.context_window)
    return request


def _messages(spec: ModelSpec, value: Any) -> tuple[Message, ...]:
    if not isinstance(value, list):
        raise mismatch("/messages", value, "array")
    return tuple(_message(spec, item, f"/messages/{index}") for index, item in enumerate(value))


def _message(spec: ModelSpec, item: Any, path: str) -> Message:
    message = expect_object(item, path)
    role = string_field(message, "role", required=True, parent=path) or ""
    if "content" not in message:
        raise bad_input(f"required properties at '{path}' are 'content'")
    text = _content_text(spec, message["content"], f"{path}/content")
    tool_call_id = message.get("tool_call_id")
    if spec.tool_call_id_pattern and role == "tool" and tool_call_id is not None:
        _check_tool_call_id(tool_call_id, f"{path}/tool_call_id")
    return Message(role, text)


def _check_tool_call_id(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _TOOL_CALL_ID.fullmatch(value):
        raise bad_input(f"Pattern mismatch of '{path}', {value!r} does not match '[a-zA-Z0-9]{{9}}'")


def _content_text(spec: ModelSpec, content: Any, path: str) -> str:
    """The text of a message's content; arrays only where the model's schema allows them."""
    if isinstance(content, str):
        return content
    if spec.content is Content.STRING or not isinstance(content, list | dict):
        raise mismatch(path, content, "string")
    if isinstance(content, dict):
        if spec.content is not Content.MULTIMODAL:
            raise mismatch(path, content, "string")
        content = [content]
    texts: list[str] = []
    for index, part in enumerate(content):
        part_path = f"{path}/{index}"
        part = expect_object(part, part_path)
        allowed = ["text", "image_url"] if spec.content is Content.MULTIMODAL else ["text"]
        kind = enum_field(part, "type", allowed, parent=part_path)
        if kind == "text":
            texts.append(string_field(part, "text", required=True, parent=part_path) or "")
        elif kind == "image_url":
            _check_image_url(part, part_path)
    return "\n".join(texts)


def _check_image_url(part: dict[str, Any], path: str) -> None:
    image = expect_object(part.get("image_url"), f"{path}/image_url")
    url = string_field(image, "url", required=True, parent=f"{path}/image_url") or ""
    if not url.startswith("data:"):
        raise bad_input(
            f"Pattern mismatch of '{path}/image_url/url', image uri with data "
            "(e.g. data:image/jpeg;base64,/9j/...). HTTP URL will not be accepted"
        )


def _max_tokens(spec: ModelSpec, body: dict[str, Any]) -> int:
    value = number_field(body, "max_tokens", 1, integer=True)
    if value is None and spec.family is Family.OPENAI:
        value = number_field(body, "max_completion_tokens", 1, integer=True)
    return DEFAULT_MAX_TOKENS if value is None else int(value)


def _check_ranges(spec: ModelSpec, body: dict[str, Any]) -> None:
    wide = spec.wide_ranges
    number_field(body, "temperature", 0, 5)
    number_field(body, "top_p", 0 if wide else 0.001, 2 if wide else 1)
    number_field(body, "top_k", 1, 50, integer=True)
    number_field(body, "seed", 1, 9999999999, integer=True)
    number_field(body, "repetition_penalty", 0, 2)
    number_field(body, "frequency_penalty", 0 if wide else -2, 2)
    number_field(body, "presence_penalty", 0 if wide else -2, 2)


def _tools(body: dict[str, Any]) -> tuple[Tool, ...]:
    value = body.get("tools")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise mismatch("/tools", value, "array")
    tools: list[Tool] = []
    for index, item in enumerate(value):
        path = f"/tools/{index}"
        tool = expect_object(item, path)
        if isinstance(tool.get("function"), dict):
            tool, path = tool["function"], f"{path}/function"
        name = string_field(tool, "name", required=True, min_length=1, parent=path) or ""
        parameters = tool.get("parameters", {})
        tools.append(Tool(name, expect_object(parameters, f"{path}/parameters")))
    return tuple(tools)


def _tool_choice(body: dict[str, Any], tools: tuple[Tool, ...]) -> str | None:
    choice = body.get("tool_choice")
    if choice == "none":
        return "none"
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        if not isinstance(name, str) or name not in {tool.name for tool in tools}:
            raise bad_input(f"Value of '/tool_choice/function/name' is {name!r}, not the name of a tool")
        return name
    return None


def _response_format(spec: ModelSpec, body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("response_format")
    if value is None:
        return {}
    fmt = expect_object(value, "/response_format")
    allowed = ["json_object", "json_schema"] + (["text"] if spec.family is Family.OPENAI else [])
    kind = enum_field(fmt, "type", allowed, parent="/response_format")
    if kind == "json_object":
        return {"json_mode": True}
    if kind != "json_schema":
        return {}
    schema = expect_object(fmt.get("json_schema", {}), "/response_format/json_schema")
    if isinstance(schema.get("schema"), dict) and "properties" not in schema:
        schema = schema["schema"]  # OpenAI's {name, schema, strict} wrapper, tolerated like gemma-4 does
    return {"json_mode": True, "json_schema": schema}


def _thinking(body: dict[str, Any]) -> bool:
    kwargs = body.get("chat_template_kwargs")
    return not (isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False)

"""gpt-oss's Responses input on /ai/run: `{input, reasoning}` in, a Response object (`output[]`) out.

The model schema (gpt-oss-120b.json) declares `input` (a string or an array of items) and `reasoning`
(`effort` low|medium|high, `summary` auto|concise|detailed), `required: ["input"]`; the workerd types
give the output as a Responses object `{id, object: "response", output[], output_text, usage, status}`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from app.emulator.completion import Completion
from app.emulator.envelope import bad_input
from app.emulator.models import ModelSpec
from app.emulator.text_request import DEFAULT_MAX_TOKENS, Message, TextRequest
from app.emulator.validation import enum_field, expect_object, mismatch, string_field

_TEXT_PARTS = ("input_text", "output_text", "text")


def parse_responses_input(spec: ModelSpec, body: dict[str, Any]) -> TextRequest:
    """The `{input, reasoning}` body as a TextRequest (5006 where the schema would refuse it)."""
    messages = _messages(body["input"])
    reasoning = body.get("reasoning")
    if reasoning is not None:
        reasoning = expect_object(reasoning, "/reasoning")
        enum_field(reasoning, "effort", ["low", "medium", "high"], parent="/reasoning")
        enum_field(reasoning, "summary", ["auto", "concise", "detailed"], parent="/reasoning")
    return TextRequest(messages=messages, is_prompt=False, max_tokens=DEFAULT_MAX_TOKENS * 4, stream=False)


def _messages(value: Any) -> tuple[Message, ...]:
    if isinstance(value, str):
        if not value:
            raise bad_input("String length of '/input' is 0, less than 1")
        return (Message("user", value),)
    if not isinstance(value, list) or not value:
        raise mismatch("/input", value, "string")
    out = []
    for index, raw in enumerate(value):
        path = f"/input/{index}"
        item = expect_object(raw, path)
        kind = item.get("type", "message")
        if kind == "function_call_output":
            out.append(Message("tool", string_field(item, "output", required=True, parent=path) or ""))
        elif kind == "message":
            role = enum_field(item, "role", ["user", "assistant", "system", "developer"], parent=path) or "user"
            out.append(Message(role, _text(item.get("content"), f"{path}/content")))
    return tuple(out)


def _text(content: Any, path: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise mismatch(path, content, "string")
    texts = []
    for index, part in enumerate(content):
        part = expect_object(part, f"{path}/{index}")
        enum_field(part, "type", list(_TEXT_PARTS), parent=f"{path}/{index}")
        texts.append(string_field(part, "text", required=True, parent=f"{path}/{index}") or "")
    return "\n".join(texts)


def response_object(completion: Completion) -> dict[str, Any]:
    """The Response object gpt-oss answers a Responses input with."""
    output: list[dict[str, Any]] = []
    if completion.reasoning:
        output.append(
            {
                "id": f"rs_{uuid.uuid4().hex}",
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": completion.reasoning}],
            }
        )
    text = completion.content or ""
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    output.append(
        {
            "id": f"msg_{uuid.uuid4().hex}",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }
    )
    for call in completion.tool_calls:  # only a scripted reply calls tools here: this input declares none
        output.append(
            {
                "id": f"fc_{uuid.uuid4().hex}",
                "type": "function_call",
                "status": "completed",
                "call_id": f"call_{call.id}",
                "name": call.name,
                "arguments": orjson.dumps(call.arguments).decode(),
            }
        )
    prompt, generated = completion.prompt_tokens, completion.completion_tokens
    reasoning_tokens = len((completion.reasoning or "").split())
    return {
        "id": f"resp_{uuid.uuid4().hex}",
        "object": "response",
        "created_at": int(time.time()),
        "model": completion.spec.name,
        "status": "incomplete" if completion.finish_reason == "length" else "completed",
        "output": output,
        "output_text": text,
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": generated,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": prompt + generated,
        },
    }

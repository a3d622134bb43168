"""The OpenAI-compatible endpoints, /ai/v1/chat/completions and /ai/v1/embeddings: raw OpenAI objects."""

from __future__ import annotations

import base64
import struct
from typing import Any

from app.emulator import openai_shape
from app.emulator.completion import complete
from app.emulator.embeddings import embed, texts_of
from app.emulator.envelope import ai_error, no_such_model
from app.emulator.models import MODELS, ModelSpec, Task
from app.emulator.outputs import EventStream, Output, PlainJson
from app.emulator.script import Script
from app.emulator.text_request import parse_text_request
from app.emulator.tokens import count
from app.emulator.validation import enum_field, expect_object, missing, string_field


def model_for(body: Any, task: Task) -> tuple[dict[str, Any], ModelSpec]:
    """The request object and the model it names (5007 when unknown or not a `task` model)."""
    body = expect_object(body)
    name = string_field(body, "model", required=True) or ""
    spec = MODELS.get(name)
    if spec is None or spec.task is not task:
        raise no_such_model(name)
    return body, spec


def create_chat_completion(spec: ModelSpec, body: dict[str, Any], agreed: bool, script: Script) -> Output:
    """A `chat.completion` object, or `chat.completion.chunk` events ending in `data: [DONE]`."""
    if spec.needs_agreement and not agreed:
        raise ai_error(5016)
    payload = dict(body)
    if "max_tokens" not in payload and "max_completion_tokens" in payload:
        payload["max_tokens"] = payload["max_completion_tokens"]
    if isinstance(payload.get("response_format"), dict) and payload["response_format"].get("type") == "text":
        del payload["response_format"]
    request = parse_text_request(spec, payload)
    completion = complete(spec, request, script.take(spec.name, request))
    if request.stream:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return EventStream(openai_shape.chunk_events(completion, run_endpoint=False, include_usage=include_usage))
    return PlainJson(openai_shape.completion_object(completion, run_endpoint=False))


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def create_embedding(spec: ModelSpec, body: dict[str, Any]) -> Output:
    """OpenAI's `{object: list, data: [{object: embedding, index, embedding}], model, usage}`."""
    if "input" not in body:
        raise missing("/", "input")
    texts = texts_of(body["input"], "/input")
    encoding = enum_field(body, "encoding_format", ["float", "base64"], default="float") or "float"
    vectors = embed(spec, texts, "mean")
    data = [
        {"object": "embedding", "index": index, "embedding": _encode(vector, encoding)}
        for index, vector in enumerate(vectors)
    ]
    tokens = sum(count(text) for text in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return PlainJson({"object": "list", "data": data, "model": spec.name, "usage": usage})

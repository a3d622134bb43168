"""Text embeddings: deterministic unit vectors from a hash of each text."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from app.emulator.envelope import bad_input, context_overflow
from app.emulator.models import ModelSpec
from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.tokens import count
from app.emulator.validation import enum_field, expect_object, mismatch, missing

MAX_ITEMS = 100


def vector(text: str, dims: int, pooling: str = "mean") -> list[float]:
    """A unit-length vector seeded by sha-3 of the text (and pooling), stable across runs."""
    digest = hashlib.shake_256(f"{pooling}\0{text}".encode()).digest(dims * 2)
    values = [int.from_bytes(digest[i : i + 2], "little") / 32767.5 - 1.0 for i in range(0, dims * 2, 2)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [value / norm for value in values]


def texts_of(value: Any, path: str = "/text") -> list[str]:
    """`text` as a list: a string (minLength 1) or 1..100 such strings."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise bad_input(f"Array at '{path}' has 0 items, fewer than minItems 1")
    if len(items) > MAX_ITEMS:
        raise bad_input(f"Array at '{path}' has {len(items)} items, more than maxItems {MAX_ITEMS}")
    for index, item in enumerate(items):
        item_path = f"{path}/{index}" if isinstance(value, list) else path
        if not isinstance(item, str):
            raise mismatch(item_path, item, "string")
        if not item:
            raise bad_input(f"String at '{item_path}' is shorter than minLength 1")
    return items


def embed(spec: ModelSpec, texts: list[str], pooling: str) -> list[list[float]]:
    """Vectors for `texts`; a text over the model's input limit is a 3030 error."""
    for text in texts:
        tokens = count(text)
        if spec.context_window and tokens > spec.context_window:
            raise context_overflow(tokens, spec.context_window)
    return [vector(text, spec.dims, pooling) for text in texts]


def run_embeddings(call: Call) -> Output:
    """`{"text", "pooling"}` -> `{"shape": [n, d], "data": [...], "pooling"}`."""
    body = expect_object(call.json())
    if "text" not in body:
        raise missing("/", "text")
    texts = texts_of(body["text"])
    pooling = enum_field(body, "pooling", ["mean", "cls"], default="mean") or "mean"
    result: dict[str, Any] = {"shape": [len(texts), call.spec.dims], "data": embed(call.spec, texts, pooling)}
    if call.spec.pooling_in_output:
        result["pooling"] = pooling
    return JsonResult(result)

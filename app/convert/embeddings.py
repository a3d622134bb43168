"""OpenAI embedding requests <-> Workers AI text-embedding calls (batches of at most 100 texts)."""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any, cast

from app.catalog import Model
from app.convert.text import estimate_tokens
from app.errors import InvalidRequest, UpstreamError
from app.protocol.openai import EmbeddingRequest

BATCH = 100  # Workers AI's maxItems for `text`


def token_ids_of(request: EmbeddingRequest) -> list[list[int]] | None:
    """The input as lists of token ids, if it was sent so (the text is then decoded: convert/token_ids.py)."""
    value = request.input
    if isinstance(value, str) or isinstance(value[0], str):
        return None
    return [value] if isinstance(value[0], int) else value


def texts_of(request: EmbeddingRequest, model: Model, decoded: list[str] | None = None) -> list[str]:
    """The texts to embed (the wire model bounds them), checked against the model before any call."""
    if decoded is not None:
        texts = decoded
    else:
        texts = [request.input] if isinstance(request.input, str) else cast(list[str], request.input)
    if request.dimensions is not None and model.dimensions and request.dimensions != model.dimensions:
        raise InvalidRequest(
            f"`{model.id}` makes {model.dimensions}-dimensional vectors and cannot shorten them; omit "
            "'dimensions' or pick another model.",
            param="dimensions",
            code="invalid_value",
        )
    return texts


def batches(texts: list[str]) -> list[list[str]]:
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def vectors_of(result: Any, expected: int) -> list[list[float]]:
    """`{shape, data}` -> the vectors, checked against how many texts were sent."""
    data = result.get("data") if isinstance(result, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        raise UpstreamError(
            "Workers AI answered an embedding call without the expected vectors.", code="upstream_bad_response"
        )
    return data


def encode(vector: list[float], encoding_format: str) -> list[float] | str:
    """base64 is little-endian float32, which the OpenAI SDK decodes (and asks for by default)."""
    if encoding_format != "base64":
        return vector
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()


def embedding_list(model: str, vectors: list[list[float]], texts: list[str], encoding_format: str) -> dict[str, Any]:
    tokens = sum(estimate_tokens(text) for text in texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode(vector, encoding_format)}
            for i, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }

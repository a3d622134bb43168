"""POST /v1/embeddings through the openai client (which asks for base64 by default)."""

from __future__ import annotations

import math

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def test_sdk_default_base64_is_decoded_to_floats(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input=["hello", "world"])
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 384 for d in result.data)
    assert math.isclose(sum(x * x for x in result.data[0].embedding), 1.0, rel_tol=1e-3)
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0


def test_float_format_matches_base64(client: openai.OpenAI, gateway_url: str) -> None:
    floats = call(
        "POST",
        f"{gateway_url}/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "same text", "encoding_format": "float"},
        AUTH,
    ).json()
    decoded = client.embeddings.create(model="text-embedding-3-small", input="same text")
    assert floats["data"][0]["embedding"] == pytest.approx(decoded.data[0].embedding, rel=1e-6)
    assert floats["model"] == "@cf/baai/bge-m3" and floats["object"] == "list"


def test_more_than_100_inputs_are_batched(client: openai.OpenAI, upstream: Emulator) -> None:
    texts = [f"text number {i}" for i in range(250)]
    result = client.embeddings.create(model="@cf/baai/bge-base-en-v1.5", input=texts)
    assert len(result.data) == 250 and [d.index for d in result.data] == list(range(250))
    sizes = sorted(len(r["body_json"]["text"]) for r in upstream.requests())
    assert sizes == [50, 100, 100]
    single = client.embeddings.create(model="@cf/baai/bge-base-en-v1.5", input="text number 137")
    assert single.data[0].embedding == pytest.approx(result.data[137].embedding)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "@cf/baai/bge-small-en-v1.5", "input": []}, "input"),
        ({"model": "@cf/baai/bge-small-en-v1.5", "input": ["ok", ""]}, "input[1]"),
        ({"model": "@cf/baai/bge-small-en-v1.5", "input": [1, "two"]}, "input[0]"),
        ({"model": "@cf/baai/bge-small-en-v1.5", "input": "x", "dimensions": 1536}, "dimensions"),
        ({"model": "@cf/meta/llama-3.1-8b-instruct-fast", "input": "x"}, "model"),
        ({"model": "@cf/baai/bge-small-en-v1.5", "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
def test_bad_embedding_requests(gateway_url: str, upstream: Emulator, body: dict[str, object], param: str) -> None:
    answer = call("POST", f"{gateway_url}/v1/embeddings", body, AUTH)
    assert answer.status == 400 and answer.error["param"] == param
    assert upstream.requests() == []

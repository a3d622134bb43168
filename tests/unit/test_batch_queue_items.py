"""What a batch line becomes in Workers AI's queue (app/serving/batches/queued.py): the route's own payload,
chunks under the 10 MB limit, and each response read back as the route reads an answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.catalog import Catalog
from app.serving.batches.lines import Line
from app.serving.batches.queued import CHUNK_BYTES, Item, UpstreamQueue, answer

BGE = "@cf/baai/bge-small-en-v1.5"
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


@pytest.fixture
def queue() -> UpstreamQueue:
    return UpstreamQueue(Catalog(), None, 3, enabled=True, max_tokens=256)  # type: ignore[arg-type]


def item(queue: UpstreamQueue, endpoint: str, body: dict[str, Any]) -> Item | None:
    model = queue.model_for(endpoint, body["model"])
    assert model is not None
    return asyncio.run(queue.item(Line(0, "c-0", body), endpoint, model))


def test_only_the_models_the_queue_takes_go_there(queue: UpstreamQueue) -> None:
    assert queue.model_for("/v1/embeddings", BGE) is not None
    assert queue.model_for("/v1/chat/completions", LLAMA) is not None
    assert queue.model_for("/v1/embeddings", "@cf/google/embeddinggemma-300m") is None
    assert queue.model_for("/v1/chat/completions", "@cf/meta/llama-3.1-8b-instruct-fast") is None
    assert queue.model_for("/v1/responses", LLAMA) is None
    assert queue.model_for("/v1/embeddings", "no-such-model") is None  # the line path answers its 404


def test_a_line_is_the_route_s_payload_and_a_line_the_route_refuses_is_left_to_it(queue: UpstreamQueue) -> None:
    embedded = item(queue, "/v1/embeddings", {"model": BGE, "input": ["a", "b"]})
    assert embedded is not None and embedded.request == {"text": ["a", "b"]}
    chat = item(queue, "/v1/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]})
    assert chat is not None and chat.request["messages"] == [{"role": "user", "content": "hi"}]
    assert chat.request["max_tokens"] == 256 and "stream" not in chat.request
    assert item(queue, "/v1/embeddings", {"model": BGE, "input": ["a"] * 101}) is None  # two calls: line path
    assert item(queue, "/v1/embeddings", {"model": BGE, "input": "a", "dimensions": 5}) is None
    assert item(queue, "/v1/chat/completions", {"model": LLAMA, "messages": [], "n": 2}) is None


def test_chunks_keep_to_the_line_count_and_the_payload_limit(queue: UpstreamQueue) -> None:
    small = [Item(i, f"c-{i}", {}, dict, 10) for i in range(7)]
    assert [len(chunk) for chunk in queue.chunks(small)] == [3, 3, 1]
    big = [Item(i, f"c-{i}", {}, dict, CHUNK_BYTES // 2 + 1) for i in range(3)]
    assert [len(chunk) for chunk in queue.chunks(big)] == [1, 1, 1]
    assert CHUNK_BYTES < 10_000_000


def test_a_response_is_read_as_the_route_reads_an_answer(queue: UpstreamQueue) -> None:
    model = queue.model_for("/v1/embeddings", BGE)
    line = item(queue, "/v1/embeddings", {"model": BGE, "input": "hello world"})
    assert model is not None and line is not None
    status, body = answer(model, line, {"id": 0, "success": True, "result": {"shape": [1, 2], "data": [[0.6, 0.8]]}})
    assert status == 200 and isinstance(body, dict)
    assert body["data"][0]["embedding"] == [0.6, 0.8] and body["usage"]["prompt_tokens"] > 0
    failed = {"id": 0, "success": False, "result": {"errors": [{"code": 3030, "message": "Max context reached"}]}}
    status, body = answer(model, line, failed)
    assert status == 400 and body["error"]["code"] == "context_length_exceeded"  # type: ignore[index]
    status, body = answer(model, line, {"id": 0, "success": True, "result": {"data": []}})  # vectors missing
    assert status == 502 and body["error"]["code"] == "upstream_bad_response"  # type: ignore[index]
    assert answer(model, line, None)[0] == 502

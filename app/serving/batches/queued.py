"""Workers AI's own asynchronous batch queue (`?queueRequest=true`, docs/batches.md): an embeddings batch on a
model the queue takes goes upstream in chunks of lines, each chunk one submit and a few polls, instead of
one call a line. Only the conversion lives here, and it is the interactive route's own (`convert/embeddings.py`:
the same checks of the input, the same vectors check, the same answer and usage), so a line's output is what
`POST /v1/embeddings` would have answered. The runner (`runner.py`) journals, paces and writes the files.

A line the queue cannot take as it is (a parameter the route would refuse, more inputs than one Workers AI
call takes) is left to the line-by-line path, so its answer, error included, is the route's own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from app.accounts.calls import PooledWorkersAI
from app.catalog import Catalog, Model, Task
from app.convert.embeddings import BATCH, embedding_list, texts_of, token_ids_of, vectors_of
from app.convert.token_ids import decode
from app.errors import GatewayError, UpstreamError
from app.model_table import QUEUE_MAX_BYTES, QUEUE_MODELS
from app.protocol.openai import EmbeddingRequest
from app.serving.batches.lines import Line
from app.upstream.client import Credentials
from app.upstream.errors import from_envelope

ENDPOINT = "/v1/embeddings"  # the one batch endpoint sent to the queue (chat on llama-3.3: not yet)
CHUNK_BYTES = QUEUE_MAX_BYTES * 9 // 10  # headroom under the 10 MB limit for the envelope and headers


@dataclass(frozen=True, slots=True)
class Item:
    """A line as the queue takes it: its texts and the answer's encoding."""

    index: int
    custom_id: str
    texts: list[str]
    encoding_format: str
    size: int  # bytes of its request in the submit


class Pending:
    """Queued requests not answered yet: request id -> (the account that took it, its lines' indices)."""

    def __init__(self) -> None:
        self.requests: dict[str, tuple[str, list[int]]] = {}

    def lines(self) -> set[int]:
        return {index for _, indices in self.requests.values() for index in indices}


class UpstreamQueue:
    def __init__(self, catalog: Catalog, upstream: PooledWorkersAI, chunk_lines: int, *, enabled: bool) -> None:
        self.catalog = catalog
        self.upstream = upstream
        self.chunk_lines = chunk_lines
        self.enabled = enabled  # BATCH_UPSTREAM_QUEUE=auto; off: nothing new is submitted (pending requests
        # of an earlier run are still polled, so no line runs twice)

    def model_for(self, endpoint: str, model_name: str, *, resuming: bool = False) -> Model | None:
        """The model, when a batch of `endpoint` on `model_name` goes to the queue (or, `resuming`, has
        requests in it); else None."""
        if endpoint != ENDPOINT:
            return None
        try:
            model = self.catalog.require(model_name, Task.TEXT_EMBEDDINGS)
        except GatewayError:
            return None  # the line path answers each line the route's error
        return model if model.id in QUEUE_MODELS or resuming else None

    async def item(self, line: Line, model: Model) -> Item | None:
        """The line checked as the route checks it; None for a line the line path must answer."""
        try:
            body = EmbeddingRequest.model_validate(line.body)
            ids = token_ids_of(body)
            texts = texts_of(body, model, await asyncio.to_thread(decode, ids) if ids else None)
        except (ValidationError, GatewayError, ValueError):
            return None
        if len(texts) > BATCH:
            return None
        return Item(line.index, line.custom_id, texts, body.encoding_format, len(orjson.dumps(texts)) + 16)

    def chunks(self, items: list[Item]) -> list[list[Item]]:
        """`items` in submits of at most `chunk_lines` lines and CHUNK_BYTES."""
        chunks: list[list[Item]] = []
        size = 0
        for item in items:
            if not chunks or len(chunks[-1]) >= self.chunk_lines or size + item.size > CHUNK_BYTES:
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += item.size
        return chunks

    async def submit(self, creds: Credentials, model: Model, chunk: list[Item]) -> tuple[str, str]:
        """The chunk queued upstream: (the account that took it, its request id)."""
        account_id, result = await self.upstream.submit_queue(creds, model.id, [{"text": i.texts} for i in chunk])
        request_id = result.get("request_id") if isinstance(result, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise UpstreamError("Workers AI queued a batch without a request_id.", code="upstream_bad_response")
        return account_id, request_id

    async def poll(
        self, creds: Credentials, model: Model, account_id: str, request_id: str
    ) -> dict[int, dict[str, Any]] | None:
        """The responses by position in the submit, or None while the request is queued or running."""
        result = await self.upstream.poll_queue(creds, account_id, model.id, request_id)
        responses = result.get("responses") if isinstance(result, dict) else None
        if not isinstance(responses, list):
            return None
        return {r["id"]: r for r in responses if isinstance(r, dict) and isinstance(r.get("id"), int)}


def answer(model: Model, item: Item, response: dict[str, Any] | None) -> tuple[int, object]:
    """A line's status and body from its queued response, as the route answers: the vectors checked, the
    list and its usage built by the same functions; a failed response is the error the route would give."""
    try:
        if response is None:
            raise UpstreamError("Workers AI's queue answered without this request.", code="upstream_bad_response")
        result = response.get("result")
        if response.get("success") is False:
            errors = result.get("errors") if isinstance(result, dict) else None
            raise from_envelope(502, orjson.dumps({"success": False, "errors": errors or []}), client_token=False)
        vectors = vectors_of(result, len(item.texts))
    except GatewayError as error:
        return error.status_code, error.to_dict()
    return 200, embedding_list(model.id, vectors, item.texts, item.encoding_format)

"""Workers AI's own asynchronous batch queue (`?queueRequest=true`, docs/batches.md): a batch on a model the
queue takes goes upstream in chunks of lines, each chunk one submit and a few polls, instead of one call a
line. Only the conversion lives here, and it is the interactive routes' own (embeddings: `convert/embeddings.py`;
chat and completions: `serving/chat.Call`, the payload built and the answer read as `chat.complete` does), so a
line's output is what the route would have answered. The runner (`queue_work.py`) journals, paces, writes.

A line the queue cannot take as it is (a parameter the route would refuse, more inputs than one Workers AI
call takes, n > 1, images to fetch) is left to the line-by-line path, so its answer, error included, is the
route's own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from app.accounts.calls import PooledWorkersAI
from app.catalog import Catalog, Model, Task
from app.convert.embeddings import BATCH, embedding_list, texts_of, token_ids_of, vectors_of
from app.convert.results import chat_completion, text_completion
from app.convert.token_ids import decode
from app.errors import GatewayError, UpstreamError
from app.model_table import QUEUE_MAX_BYTES, QUEUE_MODELS
from app.protocol.openai import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from app.serving.batches.lines import Line
from app.serving.chat import Call, explained
from app.upstream.client import Credentials
from app.upstream.errors import from_envelope

CHUNK_BYTES = QUEUE_MAX_BYTES * 9 // 10  # headroom under the 10 MB limit for the envelope and headers
TASKS = {"/v1/embeddings": Task.TEXT_EMBEDDINGS, "/v1/chat/completions": Task.TEXT_GENERATION}
TASKS["/v1/completions"] = Task.TEXT_GENERATION


@dataclass(frozen=True, slots=True)
class Item:
    """A line as the queue takes it: its request in the submit, and how its result becomes the route's body
    (raising the route's error for a result it would refuse)."""

    index: int
    custom_id: str
    request: dict[str, Any]
    read: Callable[[Any], dict[str, Any]]
    size: int  # bytes of its request in the submit


class Pending:
    """Queued requests not answered yet: request id -> (the account that took it, its lines' indices)."""

    def __init__(self) -> None:
        self.requests: dict[str, tuple[str, list[int]]] = {}

    def lines(self) -> set[int]:
        return {index for _, indices in self.requests.values() for index in indices}


class UpstreamQueue:
    def __init__(
        self, catalog: Catalog, upstream: PooledWorkersAI, chunk_lines: int, *, enabled: bool, max_tokens: int
    ) -> None:
        self.catalog = catalog
        self.upstream = upstream
        self.chunk_lines = chunk_lines
        self.max_tokens = max_tokens  # DEFAULT_MAX_TOKENS, as the chat route sends it
        self.enabled = enabled  # BATCH_UPSTREAM_QUEUE=auto; off: nothing new is submitted (pending requests
        # of an earlier run are still polled, so no line runs twice)

    def model_for(self, endpoint: str, model_name: str, *, resuming: bool = False) -> Model | None:
        """The model, when a batch of `endpoint` on `model_name` goes to the queue (or, `resuming`, has
        requests in it); else None."""
        task = TASKS.get(endpoint)
        if task is None:
            return None
        try:
            model = self.catalog.require(model_name, task)
        except GatewayError:
            return None  # the line path answers each line the route's error
        return model if model.id in QUEUE_MODELS or resuming else None

    async def item(self, line: Line, endpoint: str, model: Model) -> Item | None:
        """The line checked as the route checks it; None for a line the line path must answer."""
        try:
            if endpoint == "/v1/embeddings":
                return await self._embedding(line, model)
            return self._text(line, endpoint, model)
        except (ValidationError, GatewayError, ValueError):
            return None

    async def _embedding(self, line: Line, model: Model) -> Item | None:
        body = EmbeddingRequest.model_validate(line.body)
        ids = token_ids_of(body)
        texts = texts_of(body, model, await asyncio.to_thread(decode, ids) if ids else None)
        if len(texts) > BATCH:
            return None

        def read(result: Any) -> dict[str, Any]:
            return embedding_list(model.id, vectors_of(result, len(texts)), texts, body.encoding_format)

        return _item(line, {"text": texts}, read)

    def _text(self, line: Line, endpoint: str, model: Model) -> Item | None:
        fields = {k: v for k, v in line.body.items() if k not in ("stream", "stream_options")}
        if endpoint == "/v1/chat/completions":
            chat = ChatCompletionRequest.model_validate(fields)
            if chat.n != 1 or model.vision:  # n calls, or images to fetch first: the route's own way
                return None
            call = Call.for_chat(chat, model, self.max_tokens)
        else:
            completion = CompletionRequest.model_validate(fields)
            if completion.n != 1:
                return None
            call = Call.for_completion(completion, model, self.max_tokens)
        render = chat_completion if call.chat else text_completion

        def read(result: Any) -> dict[str, Any]:
            parsed = call.choice(result)
            return render(model.id, [parsed[0]], call.usage([parsed]), int(time.time()))

        return _item(line, call.payload, read)

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
        account_id, result = await self.upstream.submit_queue(creds, model.id, [item.request for item in chunk])
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


def _item(line: Line, request: dict[str, Any], read: Callable[[Any], dict[str, Any]]) -> Item:
    return Item(line.index, line.custom_id, request, read, len(orjson.dumps(request)) + 1)


def answer(model: Model, item: Item, response: dict[str, Any] | None) -> tuple[int, object]:
    """A line's status and body from its queued response, as the route answers; a failed response is the
    error the route would give for that Workers AI error."""
    try:
        if response is None:
            raise UpstreamError("Workers AI's queue answered without this request.", code="upstream_bad_response")
        result = response.get("result")
        if response.get("success") is False:
            errors = result.get("errors") if isinstance(result, dict) else None
            envelope = orjson.dumps({"success": False, "errors": errors or []})
            raise explained(from_envelope(502, envelope, client_token=False), model)
        return 200, item.read(result)
    except GatewayError as error:
        return error.status_code, error.to_dict()

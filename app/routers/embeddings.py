"""POST /v1/embeddings."""

from __future__ import annotations

import asyncio

import orjson
from fastapi import Request, Response

from app.caller import caller
from app.catalog import Task
from app.convert.embeddings import batches, embedding_list, texts_of, token_ids_of, vectors_of
from app.convert.token_ids import decode
from app.deps import exchange, gateway
from app.http_responses import JSONBytes
from app.openapi import CALLS_UPSTREAM, documented
from app.protocol.openai import EmbeddingRequest
from app.route import Routes
from app.routers.body import read_json
from app.routers.cache import cached_upstream
from app.serving import cached

route = Routes(prefix="/v1", tags=["embeddings"])


@route.post("/embeddings", hot=True, body=EmbeddingRequest, doc=documented(*CALLS_UPSTREAM))
async def create_embedding(request: Request) -> Response:
    """Embed text with a Workers AI embedding model; more than 100 inputs run as concurrent batches. Token
    ids (tiktoken's cl100k_base, as LangChain's OpenAIEmbeddings sends) are decoded back to text first."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, EmbeddingRequest)
    model = gw.catalog.require(body.model, Task.TEXT_EMBEDDINGS)
    record = exchange(request)
    record.model = model.id
    if model.replaces:  # a retired id, answered by its replacement (x-model-substituted)
        record.replaced = model.replaces
    ids = token_ids_of(body)
    texts = texts_of(body, model, await asyncio.to_thread(decode, ids) if ids else None)
    groups = batches(texts)
    upstream = cached_upstream(request, gw, model)  # the response cache (docs/cache.md)
    results = await asyncio.gather(*(upstream.run(creds, model.id, {"text": group}) for group in groups))
    vectors = [
        vector for group, result in zip(groups, results, strict=True) for vector in vectors_of(result, len(group))
    ]
    answer = embedding_list(model.id, vectors, texts, body.encoding_format)
    record.count(answer["usage"]["prompt_tokens"], 0)
    return cached.mark(JSONBytes(orjson.dumps(answer)), upstream)

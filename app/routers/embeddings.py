"""POST /v1/embeddings."""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, Request, Response

from app.catalog import Task
from app.convert.embeddings import batches, embedding_list, texts_of, vectors_of
from app.deps import CatalogDep, CredentialsDep, UpstreamDep
from app.protocol.openai import EmbeddingRequest
from app.routers.body import read_json

router = APIRouter(prefix="/v1", tags=["embeddings"])


@router.post(
    "/embeddings",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": EmbeddingRequest.model_json_schema()}}}},
)
async def create_embedding(
    request: Request, catalog: CatalogDep, upstream: UpstreamDep, creds: CredentialsDep
) -> Response:
    """Embed text with a Workers AI embedding model; more than 100 inputs run as concurrent batches."""
    body = await read_json(request, EmbeddingRequest)
    model = catalog.require(body.model, Task.TEXT_EMBEDDINGS)
    texts = texts_of(body, model)
    groups = batches(texts)
    results = await asyncio.gather(*(upstream.run(creds, model.id, {"text": group}) for group in groups))
    vectors = [
        vector for group, result in zip(groups, results, strict=True) for vector in vectors_of(result, len(group))
    ]
    body_out = embedding_list(model.id, vectors, texts, body.encoding_format)
    return Response(orjson.dumps(body_out), media_type="application/json")

"""POST /v1/chat/completions and POST /v1/completions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.catalog import Task
from app.deps import CatalogDep, CredentialsDep, SettingsDep, UpstreamDep
from app.protocol.openai import ChatCompletionRequest, CompletionRequest
from app.routers.body import read_json
from app.serving import chat

router = APIRouter(prefix="/v1", tags=["text"])


def _body_schema(model: type[ChatCompletionRequest | CompletionRequest]) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.post("/chat/completions", openapi_extra=_body_schema(ChatCompletionRequest))
async def create_chat_completion(
    request: Request, settings: SettingsDep, catalog: CatalogDep, upstream: UpstreamDep, creds: CredentialsDep
) -> Response:
    """Chat with a Workers AI text model, whole or streamed (`stream: true`), with tools, JSON mode,
    reasoning and images for vision models."""
    body = await read_json(request, ChatCompletionRequest)
    model = catalog.require(body.model, Task.TEXT_GENERATION)
    call = chat.Call.for_chat(body, model, settings.default_max_tokens)
    if body.stream:
        return await chat.stream(call, upstream, creds, model.id)
    return await chat.complete(call, upstream, creds, model.id)


@router.post("/completions", openapi_extra=_body_schema(CompletionRequest))
async def create_completion(
    request: Request, settings: SettingsDep, catalog: CatalogDep, upstream: UpstreamDep, creds: CredentialsDep
) -> Response:
    """Legacy text completion of a prompt, whole or streamed."""
    body = await read_json(request, CompletionRequest)
    model = catalog.require(body.model, Task.TEXT_GENERATION)
    call = chat.Call.for_completion(body, model, settings.default_max_tokens)
    if body.stream:
        return await chat.stream(call, upstream, creds, model.id)
    return await chat.complete(call, upstream, creds, model.id)

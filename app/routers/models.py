"""GET /v1/models and GET /v1/models/{id}."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from app.deps import CredentialsDep, UpstreamDep
from app.errors import ModelNotFound
from app.serving.models import ModelDirectory

router = APIRouter(prefix="/v1", tags=["models"])
DEMO_NOTICE = (
    "DEMO MODE: no Cloudflare credentials are configured, so every answer comes from the built-in "
    "Workers AI emulator, not from Cloudflare."
)


def _directory(request: Request) -> ModelDirectory:
    directory: ModelDirectory = request.app.state.models
    return directory


@router.get("/models")
async def list_models(request: Request, upstream: UpstreamDep, creds: CredentialsDep) -> Response:
    """Every model the gateway serves, Workers AI ids and OpenAI-name aliases, in OpenAI's list shape."""
    directory = _directory(request)
    await directory.refresh(upstream, creds)
    body: dict[str, object] = {"object": "list", "data": directory.listing()}
    if request.app.state.demo:
        body["notice"] = DEMO_NOTICE
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/models/{model_id:path}")
async def retrieve_model(model_id: str, request: Request, creds: CredentialsDep) -> Response:
    """One model (or alias) by id."""
    item = _directory(request).get(model_id)
    if item is None:
        raise ModelNotFound(model_id)
    return Response(orjson.dumps(item), media_type="application/json")

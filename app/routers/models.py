"""GET /v1/models and GET /v1/models/{id}."""

from __future__ import annotations

import orjson
from fastapi import Request, Response

from app.caller import identify
from app.deps import gateway
from app.errors import ModelNotFound
from app.http_responses import JSONBytes
from app.openapi import documented
from app.route import Routes

route = Routes(prefix="/v1", tags=["models"])
DEMO_NOTICE = (
    "DEMO MODE: no Cloudflare credentials are configured, so every answer comes from the built-in "
    "Workers AI emulator, not from Cloudflare."
)


@route.get("/models", doc=documented(401))
async def list_models(request: Request) -> Response:
    """Every model the gateway serves, Workers AI ids and OpenAI-name aliases, in OpenAI's list shape, each
    with what it can do (`task`, `context_window`, `tools`, `vision`, `reasoning`, `json_mode`, `paid_only`,
    `pricing`); ids Cloudflare retired appear as aliases of their replacement, marked `retired`."""
    gw = gateway(request)
    creds = identify(request, gw)
    await gw.models.refresh(gw.upstream, creds)
    return JSONBytes(gw.models.body(DEMO_NOTICE if gw.demo else None))


@route.get("/models/{model_id:path}", doc=documented(401, 404))
async def retrieve_model(model_id: str, request: Request) -> Response:
    """One model (or alias) by id."""
    gw = gateway(request)
    identify(request, gw)
    item = gw.models.get(model_id)
    if item is None:
        raise ModelNotFound(model_id)
    return JSONBytes(orjson.dumps(item))

"""What a router hands the response cache (app/serving/cached.py): the request's route, `Cache-Control`
and gateway key, read here at the edge."""

from __future__ import annotations

from fastapi import Request

from app.caller import key_of
from app.catalog import Model
from app.deps import Gateway
from app.serving.cached import upstream_for
from app.upstream.client import Upstream


def cached_upstream(request: Request, gw: Gateway, model: Model, *, n: int = 1) -> Upstream:
    """Workers AI for this request, through the response cache when its policy may cache `model`'s answers."""
    key = key_of(request, query=True) if gw.settings.gateway_api_keys else None
    cache_control = None
    for name, value in request.scope["headers"]:  # the raw headers: Starlette's Headers cost more
        if name == b"cache-control":
            cache_control = value.decode("latin-1")
            break
    route = request.scope["path"]
    return upstream_for(
        gw.upstream, gw.answers, gw.settings, model, route=route, cache_control=cache_control, key=key, n=n
    )

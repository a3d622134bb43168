"""What a router hands the response cache (app/serving/cached.py): the request's route, `Cache-Control`
and gateway key, read here at the edge."""

from __future__ import annotations

from fastapi import Request
from starlette.types import Scope

from app.caller import CACHE_CONTROL, key_of
from app.catalog import Model
from app.deps import Gateway
from app.serving.cached import upstream_for
from app.upstream.client import Upstream


def cached_upstream(
    request: Request, gw: Gateway, model: Model, *, n: int = 1, temperature: float | None = 0.0
) -> Upstream:
    """Workers AI for this request, through the response cache when its policy may cache `model`'s answers.
    `temperature` is the request's (text routes): `upstream_for` sends a sampled request that does not ask for
    caching straight to Workers AI under `deterministic`."""
    scope = request.scope
    raw = scope[CACHE_CONTROL] if CACHE_CONTROL in scope else _cache_control(scope)  # read with the key
    cache_control = raw.decode("latin-1") if raw is not None else None
    settings = gw.settings
    key = key_of(request, query=True) if settings.gateway_api_keys else None  # the key `caller` read
    route = scope["path"]
    return upstream_for(
        gw.upstream,
        gw.answers,
        settings,
        model,
        route=route,
        cache_control=cache_control,
        key=key,
        n=n,
        sampled=temperature != 0,
    )


def _cache_control(scope: Scope) -> bytes | None:
    """The raw header, for a request whose key was not read (a batch line)."""
    return next((value for name, value in scope["headers"] if name == b"cache-control"), None)

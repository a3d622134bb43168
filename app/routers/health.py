"""GET /health: liveness for load balancers and container health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import gateway
from app.openapi import documented

router = APIRouter(tags=["health"])


@router.get("/health", **documented(key=False))
async def health(request: Request) -> Response:
    """Always 200 while the process serves; says which mode the gateway runs in."""
    gw = gateway(request)
    mode = "demo" if gw.demo else "managed" if gw.settings.managed else "passthrough"
    return Response(f'{{"status":"ok","mode":"{mode}"}}', media_type="application/json")

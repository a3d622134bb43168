"""GET /health: liveness for load balancers and container health checks."""

from __future__ import annotations

from fastapi import Request, Response

from app.deps import Gateway, gateway
from app.openapi import documented
from app.route import Routes

route = Routes(tags=["health"])


@route.get("/health", doc=documented(key=False))
async def health(request: Request) -> Response:
    """Always 200 while the process serves; says which mode the gateway runs in."""
    return Response(f'{{"status":"ok","mode":"{mode_of(gateway(request))}"}}', media_type="application/json")


def mode_of(gw: Gateway) -> str:
    """demo (the built-in emulator answers), managed (the server's Cloudflare token) or passthrough."""
    return "demo" if gw.demo else "managed" if gw.settings.managed else "passthrough"

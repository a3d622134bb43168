"""GET and HEAD /: what this server is and where to go next, as a page for a browser and as JSON for the rest.

Someone who opens the gateway's address in a browser, and every client that probes `/` (Claude Code sends
`HEAD /` before its first request), gets an answer instead of a 404. No key and no secret: the mode, the
base URLs clients take, and links to the status page, the OpenAPI docs and the README's recipes.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, Response

from app.deps import gateway
from app.http_responses import JSONBytes
from app.openapi import documented
from app.route import Routes
from app.routers.health import mode_of
from app.serving.home import KEYS, RECIPES, RECIPES_FOR, SUMMARY, render, wants_html
from app.serving.images import public_base

route = Routes(tags=["health"])
HTML = "text/html; charset=utf-8"
HEADERS = {"Cache-Control": "no-cache", "Vary": "Accept"}  # one URL, two representations
LINKS = {
    "status": "/status",
    "docs": "/docs",
    "openapi": "/openapi.json",
    "health": "/health",
    "models": "/v1/models",
}


@route.head("/", doc=documented(key=False, answers=("text/html",)))
@route.get("/", doc=documented(key=False, answers=("text/html",)))
async def home(request: Request) -> Response:
    """What this gateway is: its mode, the base URL each kind of client takes, and links to the status page,
    these docs and the recipes. HTML for a browser (`Accept: text/html`), JSON for everyone else."""
    facts = _facts(request)
    if wants_html(request.headers.get("accept", "")):
        return Response(render(facts).encode(), media_type=HTML, headers=HEADERS)
    return JSONBytes(orjson.dumps(facts), headers=HEADERS)


def _facts(request: Request) -> dict[str, Any]:
    gw = gateway(request)
    mode = mode_of(gw)
    base = public_base(request, gw.settings).rstrip("/")
    return {
        "name": request.app.title,
        "version": request.app.version,
        "description": SUMMARY,
        "mode": mode,
        "demo": gw.demo,
        "base_urls": {
            "openai": f"{base}/v1",
            "anthropic": base,
            "deeplx": f"{base}/translate",
            "deepl": f"{base}/v2/translate",
        },
        "key": KEYS[mode],
        "links": LINKS,
        "recipes": f"{RECIPES} ({RECIPES_FOR})",
    }

"""GET /status (an HTML page for people) and /status.json (its data): the account pool's day so far.

Off the hot path: the page is built only when someone asks for it, from the pool's snapshot.
"""

from __future__ import annotations

from dataclasses import replace

import orjson
from fastapi import Request, Response

from app.accounts import page
from app.accounts.snapshot import Snapshot
from app.accounts.source import read_snapshot
from app.caller import require_gateway_key
from app.deps import Gateway, gateway
from app.http_responses import JSONBytes
from app.openapi import documented
from app.route import Routes

route = Routes(tags=["status"])
HTML = "text/html; charset=utf-8"


@route.get("/status", doc=documented(401, answers=("text/html",)))
async def status_page(request: Request) -> Response:
    """The accounts' neurons, states, hourly use and models today, as a page for a browser. With gateway
    keys configured, send one as a Bearer token or as `?key=` (a browser cannot set the header)."""
    gw = gateway(request)
    require_gateway_key(request, gw, query=True)
    snapshot = await _snapshot(gw)
    body = page.render(snapshot, note=_note(gw, snapshot), demo=gw.demo)
    return Response(body.encode(), media_type=HTML, headers={"Cache-Control": "no-store"})


@route.get("/status.json", doc=documented(401))
async def status_json(request: Request) -> Response:
    """The status page's data: the pool's snapshot (`accounts`, totals, `reset_at`, translation `cache`)."""
    gw = gateway(request)
    require_gateway_key(request, gw, query=False)
    snapshot = await _snapshot(gw)
    return JSONBytes(orjson.dumps(snapshot.to_dict()), headers={"Cache-Control": "no-store"})


async def _snapshot(gw: Gateway) -> Snapshot:
    translator = gw.translator
    snapshot = await read_snapshot(getattr(gw, "accounts", None), translator.cache if translator else None)
    answers = getattr(gw, "answers", None)  # the response cache: what its answers today would have cost
    return replace(snapshot, neurons_saved=await answers.tally.saved_today()) if answers is not None else snapshot


def _note(gw: Gateway, snapshot: Snapshot) -> str:
    if getattr(gw, "accounts", None) is not None:
        return "" if snapshot.accounts else "The account pool has no accounts."
    return "Passthrough mode: each client's own Cloudflare token is used, so the gateway keeps no account figures."

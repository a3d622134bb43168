"""GET /v1/dashboard/billing/subscription and /usage: OpenAI's legacy billing calls, which OneAPI's and
new-api's balance check make, answered from the account pool's snapshot (app/accounts/billing.py)."""

from __future__ import annotations

import re

import orjson
from fastapi import Request, Response

from app.accounts import billing
from app.accounts.source import read_snapshot
from app.caller import identify
from app.deps import gateway
from app.errors import InvalidRequest
from app.http_responses import JSONBytes
from app.openapi import documented
from app.route import Routes

route = Routes(tags=["billing"])
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@route.get("/v1/dashboard/billing/subscription", doc=documented(401))
@route.get("/dashboard/billing/subscription", include_in_schema=False)
async def billing_subscription(request: Request) -> Response:
    """Today's free allowance of every usable account, in USD (10,000 neurons at $0.011 per 1,000)."""
    gw = gateway(request)
    identify(request, gw)
    accounts = getattr(gw, "accounts", None)
    snapshot = await read_snapshot(accounts)
    return JSONBytes(orjson.dumps(billing.subscription(snapshot, pooled=accounts is not None)))


@route.get("/v1/dashboard/billing/usage", doc=documented(400, 401))
@route.get("/dashboard/billing/usage", include_in_schema=False)
async def billing_usage(request: Request) -> Response:
    """Today's spent allowance as `total_usage` in cents. `start_date`/`end_date` (YYYY-MM-DD) are
    accepted as OneAPI sends them; the figure is today's whatever the range, as the allowance is daily."""
    gw = gateway(request)
    identify(request, gw)
    for name in ("start_date", "end_date"):
        value = request.query_params.get(name)
        if value is not None and not DATE.fullmatch(value):
            raise InvalidRequest(f"`{name}` must be a date as YYYY-MM-DD.", param=name)
    accounts = getattr(gw, "accounts", None)
    snapshot = await read_snapshot(accounts)
    return JSONBytes(orjson.dumps(billing.usage(snapshot, pooled=accounts is not None)))

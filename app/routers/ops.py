"""GET /healthz, /readyz and /metrics: for orchestrators and Prometheus (no gateway key)."""

from __future__ import annotations

import hmac

import orjson
from fastapi import Request, Response

from app.accounts.check import report as accounts_report
from app.deps import gateway
from app.errors import AuthenticationFailed, InvalidRequest
from app.openapi import documented
from app.ops.metrics import CONTENT_TYPE
from app.route import Routes

route = Routes(tags=["health"])
JSON = "application/json"


@route.get("/healthz", doc=documented(key=False))
async def healthz() -> Response:
    """200 while the process serves (liveness)."""
    return Response(b'{"status":"ok"}', media_type=JSON)


@route.get("/readyz", doc=documented(key=False))
async def readyz(request: Request) -> Response:
    """200 when every readiness check passes, else 503 naming the failing checks and why. With server
    credentials, `accounts` lists the Cloudflare accounts that rejected them; when every one did (a sole
    account included), the `accounts` check fails: no call could succeed."""
    report = await request.app.state.readiness.run()
    accounts = None
    pool = gateway(request).accounts
    if pool is not None:  # managed: the accounts Cloudflare rejected (app/accounts/check.py)
        report["accounts"], accounts = accounts_report(pool, getattr(request.app.state, "credential_check", None))
    failing = {name: reason for name, (ok, reason) in report.items() if not ok}
    body: dict[str, object] = {
        "status": "not ready" if failing else "ok",
        "checks": {n: ok for n, (ok, _) in report.items()},
    }
    if failing:
        body["failing"] = failing
    if accounts is not None:
        body["accounts"] = accounts
    return Response(orjson.dumps(body), status_code=503 if failing else 200, media_type=JSON)


@route.get("/metrics", doc=documented(401, 404, answers=("text/plain",), key=False))
async def metrics(request: Request) -> Response:
    """Prometheus text format. With METRICS_TOKEN set, the scraper sends it as a Bearer token."""
    settings = gateway(request).settings
    if not settings.metrics_enabled:
        raise InvalidRequest("Metrics are off (METRICS_ENABLED=false).", status_code=404, code="unknown_url")
    if settings.metrics_token:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
            raise AuthenticationFailed("METRICS_TOKEN is required for /metrics.")
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)

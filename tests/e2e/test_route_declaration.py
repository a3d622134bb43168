"""A route declared once, here and nowhere else, is served with everything its declaration says.

The routes below live only in this test module: no table in app/ names them. Served by the real server
(GatewayProtocol) over loopback, the hot one must come from the fast lane, refuse a body over its own limit,
answer every edge error (401, 404, 405, 413, 431) and the CORS preflight in its declared dialect (DeepLX's
`{code, message}`, which no /v9 path would speak otherwise), and appear in /openapi.json with its body.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi import Request, Response
from pydantic import BaseModel

from app.caller import identify
from app.cli import gateway_config
from app.config import Settings
from app.deps import gateway
from app.dialects import DEEPLX
from app.edge import discover
from app.http_responses import JSONBytes
from app.main import create_app
from app.openapi import documented
from app.route import Routes
from app.routers.body import read_json
from tests.e2e.test_edge_dialects import assert_dialect, raw
from tests.http import call
from tests.servers import Emulator, free_port, in_thread

KEY = "probe-key"
LIMIT = 2048  # the route's own body limit, far under MAX_BODY_BYTES
MAX_HEAD = 8 * 1024
probe = Routes(prefix="/v9", tags=["probe"], dialect=DEEPLX, owns=("/v9/",))  # any /v9/ path speaks it


class ProbeRequest(BaseModel):
    text: str


@probe.post("/echo", hot=True, body=ProbeRequest, max_body=LIMIT, doc=documented(400, 401, 413))
async def create_echo(request: Request) -> Response:
    """Says the text back, and whether FastAPI routed the request (it does not route a hot one)."""
    identify(request, gateway(request))
    body = await read_json(request, ProbeRequest)
    return JSONBytes(orjson.dumps({"text": body.text, "routed_by_fastapi": "route" in request.scope}))


@probe.get("/cold", doc=documented(401))
async def get_cold(request: Request) -> Response:
    identify(request, gateway(request))
    return JSONBytes(orjson.dumps({"routed_by_fastapi": "route" in request.scope}))


@pytest.fixture(scope="module")
def served(upstream: Emulator) -> Iterator[str]:
    port = free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        cf_api_base=upstream.api_base,
        cf_account_id="probe-account",
        cf_api_token="probe-token",
        gateway_api_keys=[KEY],
        port=port,
        max_header_bytes=MAX_HEAD,
    )
    with in_thread(gateway_config(create_app(settings, routes=[*discover(), probe]), settings)):
        yield f"http://127.0.0.1:{port}"


def _post(url: str, body: bytes, key: str = KEY, **headers: str) -> tuple[int, dict[str, str], object]:
    answer = call("POST", url + "/v9/echo", body, {"Authorization": f"Bearer {key}", **headers})
    return answer.status, answer.headers, answer.json()


def test_the_hot_route_is_served_by_the_fast_lane(served: str) -> None:
    status, headers, body = _post(served, b'{"text": "hi"}', Origin="https://app.example")
    assert (status, body) == (200, {"text": "hi", "routed_by_fastapi": False})
    assert headers["access-control-allow-origin"] == "*" and headers["x-request-id"]
    cold = call("GET", served + "/v9/cold", headers={"Authorization": f"Bearer {KEY}"})
    assert (cold.status, cold.json()) == (200, {"routed_by_fastapi": True})


def test_its_own_body_limit_and_its_errors_in_its_dialect(served: str) -> None:
    status, _, body = _post(served, b'{"text": "' + b"a" * LIMIT + b'"}')
    assert status == 413
    assert_dialect("deeplx", status, body)
    status, _, body = _post(served, b'{"text": "hi"}', key="wrong")
    assert status == 401
    assert_dialect("deeplx", status, body)
    for method, path, expected in (("GET", "/v9/echo", 405), ("POST", "/v9/nope", 404), ("GET", "/v9/cold", 401)):
        answer = call(method, served + path, b"{}" if method == "POST" else None)
        assert answer.status == expected
        assert_dialect("deeplx", expected, answer.json())


def test_the_server_refuses_a_large_head_in_its_dialect(served: str) -> None:
    head = f"POST /v9/echo HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 20_000}\r\nContent-Length: 2\r\n\r\n{{}}"
    status, body = raw(served, head.encode())
    assert status == 431
    assert_dialect("deeplx", status, body)


def test_a_refused_preflight_is_in_its_dialect(served: str) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    allowed = call("OPTIONS", served + "/v9/echo", headers=preflight)
    assert allowed.status == 200 and allowed.headers["access-control-allow-origin"] == "*"
    refused = call("OPTIONS", served + "/v9/echo", headers=preflight | {"Access-Control-Request-Private-Network": "1"})
    assert refused.status == 400
    assert_dialect("deeplx", 400, refused.json())


def test_its_openapi_entry(served: str) -> None:
    document = call("GET", served + "/openapi.json").json()
    operation = document["paths"]["/v9/echo"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ProbeRequest")
    assert operation["responses"]["413"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeepLXError")
    assert {"deeplxToken": []} in operation["security"] and operation["tags"] == ["probe"]
    assert "/v9/cold" in document["paths"]

"""The hot POST routes served straight from ASGI, in front of FastAPI.

FastAPI's middleware stack, routing and dependency solving cost more CPU per request than the gateway's
own work (the benchmark's profile); the chat, completion and embedding handlers need none of it. They are
still registered with FastAPI, which documents them and serves every other route (models, health, docs,
404/405, CORS preflight). Behaviour is the same on both paths: body limit, errors, CORS headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from app.errors import GatewayError, InternalError, renderer_for
from app.middleware import TooLarge, declared_too_large, read_body, too_large_error
from app.ops.requests import CURRENT, EXCHANGE, REQUEST_ID_HEADER, Exchange, RequestIds, RequestLog

log = logging.getLogger("app")
CLIENT_GONE = 499  # what the request log and counter say of a request whose client left before the answer
PROMPT_LOG_BYTES = 4096  # the most of a body a request line holds, with LOG_PROMPTS
Handler = Callable[[Request], Awaitable[Response]]


class ReadRequest(Request):
    """A request whose body was already read. Starlette's `body()` goes through `stream()` and its
    receive wrappers: 7 us a request on the bench machine, against well under 1 us for one `receive`."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        super().__init__(scope)
        self._read = body

    async def body(self) -> bytes:
        return self._read


class FastLane:
    """ASGI entry: POSTs to `routes` go straight to their handler; everything else to `app`.

    Every HTTP request gets an `Exchange` in its scope and an `X-Request-ID` on its answer, and is
    counted and logged once it ends (`requests`). A fast-lane answer gets its header added to the
    response object; only FastAPI's answers have `send` wrapped (a wrapper would cost every stream chunk).
    """

    def __init__(
        self,
        app: FastAPI,
        routes: Mapping[str, Handler],
        *,
        max_body_bytes: int,
        cors_origins: list[str],
        requests: RequestLog,
    ) -> None:
        self.app = app
        self.routes = dict(routes)
        self.max_body_bytes = max_body_bytes
        self.any_origin = "*" in cors_origins
        self.origins = frozenset(cors_origins)
        self.requests = requests
        self.ids = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        exchange = scope[EXCHANGE] = Exchange(self.ids.of(scope["headers"]))
        CURRENT.set(exchange)
        handler = self.routes.get(scope["path"]) if scope["method"] == "POST" else None
        if handler is None:
            await self._pass_on(exchange, scope, receive, send, started)
            return
        scope["app"] = self.app
        status = 500
        try:
            response = await self._respond(handler, scope, receive)
            if response is None:
                status = CLIENT_GONE
                return
            status = response.status_code
            response.raw_headers.append((REQUEST_ID_HEADER, exchange.request_id))
            if exchange.replaced:
                response.raw_headers.append(exchange.substitution())  # type: ignore[arg-type]
            self._add_cors(scope, response)
            await response(scope, receive, send)
        finally:
            self.requests.done(exchange, "POST", scope["path"], status, started)

    async def _pass_on(self, exchange: Exchange, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        """FastAPI serves it; the route is its template (`/v1/models/{model_id}`), so the labels stay few."""
        status = CLIENT_GONE

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, exchange.request_id)]
                substituted = exchange.substitution()
                message["headers"] = [*headers, substituted] if substituted else headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path_format", "unmatched") if isinstance(route, BaseRoute) else "unmatched"
            self.requests.done(exchange, scope["method"], path, status, started)

    async def _respond(self, handler: Handler, scope: Scope, receive: Receive) -> Response | None:
        try:
            if declared_too_large(scope, self.max_body_bytes):
                raise TooLarge
            body = await read_body(receive, self.max_body_bytes)
            if self.requests.prompts:
                scope[EXCHANGE].body = body[:PROMPT_LOG_BYTES]
            return await handler(ReadRequest(scope, body))
        except GatewayError as error:
            return renderer_for(scope["path"])(error)
        except TooLarge:
            return renderer_for(scope["path"])(too_large_error(self.max_body_bytes))
        except ClientDisconnect:
            return None  # nobody is left to answer
        except Exception:
            log.exception("unhandled error on POST %s", scope["path"])
            return renderer_for(scope["path"])(InternalError())

    def _add_cors(self, scope: Scope, response: Response) -> None:
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        if origin is None:
            return
        if self.any_origin:
            response.raw_headers.append((b"access-control-allow-origin", b"*"))
        elif origin.decode("latin-1") in self.origins:
            response.raw_headers.extend([(b"access-control-allow-origin", origin), (b"vary", b"Origin")])
        else:
            return
        exposed = b"Retry-After, X-Model-Substituted, X-Cache, Cf-Aig-Cache-Status"
        response.raw_headers.append((b"access-control-expose-headers", exposed))

"""The one edge every HTTP request enters by: its request id and request line, CORS (the preflight too), the
body limit, and every error rendered in the dialect of the route it was aimed at. Routes come from their
declarations (app/route.py), found in the `app.routers` package.

The hot POSTs (declared `hot=True`) are served straight from ASGI: FastAPI's middleware stack, routing and
dependency solving cost more CPU per request than the gateway's own work (the benchmark's profile), and they
need none of it. Every other request goes on to FastAPI, which routes it, and documents every route: its
errors come back through the handlers installed here. The server's own refusals (431, 408, malformed HTTP,
app/server.py) ask `render` too. The caller (who, and within which limits) is app/caller.py's, the one
function every route that takes a key calls.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Iterable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request, empty_receive, empty_send
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

import app.routers
from app.cors import Cors
from app.errors import GatewayError, InternalError, InvalidRequest
from app.middleware import TooLarge, declared_too_large, limited, read_body, too_large_error
from app.ops.requests import CURRENT, EXCHANGE, REQUEST_ID_HEADER, Exchange, RequestIds, RequestLog
from app.route import Declared, Dialects, Routes
from app.routers.body import param_of

log = logging.getLogger("app")
CLIENT_GONE = 499  # what the request log and counter say of a request whose client left before the answer
PROMPT_LOG_BYTES = 4096  # the most of a body a request line holds, with LOG_PROMPTS
Handler = Callable[[Request], Awaitable[Response]]


def discover() -> list[Routes]:
    """Every `Routes` declared in a module of the `app.routers` package; a module with a bare FastAPI router
    is an error (its routes would be served without their dialect, limit and documentation)."""
    found: list[Routes] = []
    for info in sorted(pkgutil.iter_modules(app.routers.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{app.routers.__name__}.{info.name}")
        declared = [value for value in vars(module).values() if isinstance(value, Routes)]
        if not declared and hasattr(module, "router"):
            raise TypeError(f"{module.__name__} has a bare `router`: declare its routes with app.route.Routes")
        found += [routes for routes in declared if all(routes is not seen for seen in found)]
    return found


class ReadRequest(Request):
    """A request whose body was already read, kept where Starlette's `body()` and `stream()` look first.
    Starlette's own `body()` goes through `stream()` and its receive wrappers: 7 us a request on the bench
    machine, against well under 1 us for one `receive`."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        # What Request.__init__ sets, set here: its two chained __init__ calls (an assert each) were 1.2% of a
        # chat request's instructions (3.4k of 292.6k, bench.studies.instructions). The fields are
        # Starlette's own: tests/unit/test_edge_request.py fails if a Starlette release adds or renames one.
        self.scope = scope
        self._receive = empty_receive
        self._send = empty_send
        self._stream_consumed = False
        self._is_disconnected = False
        self._form = None
        self._body = body

    async def body(self) -> bytes:
        return self._body


class Edge:
    """ASGI entry: hot POSTs go straight to their handler; everything else to `app` (FastAPI).

    Every HTTP request gets an `Exchange` in its scope and an `X-Request-ID` on its answer, and is counted
    and logged once it ends (`requests`). A hot answer gets its headers added to the response object; only
    FastAPI's answers have `send` wrapped (a wrapper would cost every stream chunk).
    """

    def __init__(
        self,
        app: FastAPI,
        routes: Iterable[Routes],
        *,
        max_body_bytes: int,
        cors_origins: list[str],
        requests: RequestLog,
    ) -> None:
        routes = list(routes)
        self.app = app
        self.declared = {d.path: d for r in routes for d in r.declared}
        self.hot = {path: d for path, d in self.declared.items() if d.hot}
        self.dialects = Dialects(routes)
        self.max_body_bytes = max_body_bytes
        self.cors = Cors(cors_origins)
        self.requests = requests
        self.ids = RequestIds()
        for declared in routes:  # flat, not `include_router`: FastAPI then matches a cold path in fewer steps
            app.router.routes.extend(declared.router.routes)  # (GET /health 80 -> 61 us of CPU, a 404 185 -> 95)
        _install_error_handlers(app, self)

    def render(self, path: str, error: GatewayError) -> Response:
        """`error` as the clients of the route `path` is aimed at parse it."""
        return self.dialects.of(path).render(error)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        exchange = scope[EXCHANGE] = Exchange(self.ids.of(scope["headers"]))
        CURRENT.set(exchange)
        declared = self.hot.get(scope["path"]) if scope["method"] == "POST" else None
        if declared is None:
            await self._pass_on(exchange, scope, receive, send, started)
            return
        scope["app"] = self.app
        status = 500
        try:
            response = await self._respond(declared, scope, receive)
            if response is None:
                status = CLIENT_GONE
                return
            status = response.status_code
            response.raw_headers.append((REQUEST_ID_HEADER, exchange.request_id))
            if exchange.replaced:
                response.raw_headers.append(exchange.substitution())  # type: ignore[arg-type]
            response.raw_headers.extend(self.cors.answer_headers(scope))
            await response(scope, receive, send)
        finally:
            self.requests.done(exchange, "POST", scope["path"], status, started)

    async def _pass_on(self, exchange: Exchange, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        """FastAPI serves it; the route is its template (`/v1/models/{model_id}`), so the labels stay few."""
        status = CLIENT_GONE
        cors = self.cors.answer_headers(scope)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, exchange.request_id)]
                if cors:  # a route that set its own (the image files) keeps them: a browser refuses "*, *"
                    own = {name.lower() for name, _ in headers}
                    headers += [(name, value) for name, value in cors if name not in own or name == b"vary"]
                substituted = exchange.substitution()
                message["headers"] = [*headers, substituted] if substituted else headers
            await send(message)

        route = "unmatched"
        try:
            early = self._before_the_app(scope)
            if early is not None:
                route = "preflight" if early.status_code == 200 else route
                await early(scope, receive, send_with_id)
                return
            limit = self._limit(scope["path"])
            await self.app(scope, limited(receive, limit), send_with_id)
            matched = scope.get("route")
            route = getattr(matched, "path_format", route) if isinstance(matched, BaseRoute) else route
        finally:
            self.requests.done(exchange, scope["method"], route, status, started)

    def _before_the_app(self, scope: Scope) -> Response | None:
        """The answer the edge gives itself to a request for FastAPI's routes: a preflight's, or a refusal."""
        try:
            preflight = self.cors.preflight(scope)
            if preflight is not None:
                answer = Response(status_code=200)
                answer.raw_headers.extend(preflight)
                return answer
            limit = self._limit(scope["path"])
            if declared_too_large(scope, limit):
                raise TooLarge
        except GatewayError as error:
            return self.render(scope["path"], error)
        except TooLarge:
            return self.render(scope["path"], too_large_error(self._limit(scope["path"])))
        return None

    def _limit(self, path: str) -> int:
        declared = self.declared.get(path)
        return (declared.max_body if declared is not None else None) or self.max_body_bytes

    async def _respond(self, declared: Declared, scope: Scope, receive: Receive) -> Response | None:
        limit = declared.max_body or self.max_body_bytes
        try:
            if declared_too_large(scope, limit):
                raise TooLarge
            body = await read_body(receive, limit)
            if self.requests.prompts:
                scope[EXCHANGE].body = body[:PROMPT_LOG_BYTES]
            response: Response = await declared.handler(ReadRequest(scope, body))
            return response
        except GatewayError as error:
            return declared.dialect.render(error)
        except TooLarge:
            return declared.dialect.render(too_large_error(limit))
        except ClientDisconnect:
            return None  # nobody is left to answer
        except Exception:
            log.exception("unhandled error on POST %s", scope["path"])
            return declared.dialect.render(InternalError())


def _install_error_handlers(app: FastAPI, edge: Edge) -> None:
    """FastAPI's routes raise; their errors are rendered by the edge, in the dialect of the path."""

    async def gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return edge.render(request.url.path, exc)

    async def too_large(request: Request, exc: Exception) -> Response:  # raised by `limited` receive
        return edge.render(request.url.path, too_large_error(edge._limit(request.url.path)))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        param = param_of(tuple(first.get("loc", ())))
        return edge.render(request.url.path, InvalidRequest(f"Invalid request: {first.get('msg')}.", param=param))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {
            404: f"Unknown request URL: {request.method} {request.url.path}.",
            405: f"Method {request.method} is not allowed for {request.url.path}.",
        }.get(exc.status_code)
        code = {404: "unknown_url", 405: "method_not_allowed"}.get(exc.status_code)
        return edge.render(
            request.url.path,
            InvalidRequest(message or str(exc.detail), status_code=exc.status_code, code=code, headers=exc.headers),
        )

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return edge.render(request.url.path, InternalError())

    async def client_gone(request: Request, exc: Exception) -> Response:
        return Response(status_code=400)  # nobody is left to read it; not an error worth a traceback

    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(TooLarge, too_large)
    app.add_exception_handler(GatewayError, gateway_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)

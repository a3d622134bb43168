"""GatewayProtocol in process, on a recording transport: each test also pins a piece of uvicorn's internals
the protocol relies on (callbacks, the request cycle's fields, `send` closing the transport), so an
upstream change fails here before it reaches a user."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from app.edge import discover
from app.errors import GatewayError
from app.route import Dialects
from app.server import GatewayProtocol, Limits

LIMITS = Limits(header_timeout=0.2, body_timeout=0.2, max_header_bytes=2048, max_body_bytes=1024)
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Transport(asyncio.Transport):
    """Records what the protocol does to its socket."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = self.eof = self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.eof and not self.closed, "written after the write side was shut"
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5000)}.get(name, default)


async def refuse_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 413 without reading the body, as the gateway does for a Content-Length over the limit."""
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def echo_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


def in_loop(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Runs an async test in a fresh event loop (the protocol arms its timers on the running loop)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def connect(app: App) -> tuple[GatewayProtocol, Transport]:
    config = uvicorn.Config(app, http=GatewayProtocol.with_limits(LIMITS), ws="none", lifespan="off", log_level="error")
    config.load()
    protocol = config.http_protocol_class(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )  # type: ignore[call-arg]
    assert isinstance(protocol, GatewayProtocol)
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


def error_of(written: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = written.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head and b"connection: close" in head
    return int(head.split()[1]), json.loads(body)["error"]


def test_relies_on_these_uvicorn_internals() -> None:
    for name in (
        "_unset_keepalive_if_required",
        "_should_upgrade",
        "_should_upgrade_to_ws",
        "_unsupported_upgrade_warning",
        "handle_websocket_upgrade",
        "on_message_begin",
        "on_headers_complete",
        "on_message_complete",
        "on_response_complete",
        "shutdown",
    ):
        assert callable(getattr(HttpToolsProtocol, name)), name
    cycle = RequestResponseCycle.__init__.__code__.co_varnames
    assert {"transport", "keep_alive", "on_response", "message_event"} <= set(cycle)


@in_loop
async def test_a_request_in_one_read_arms_no_timer() -> None:
    protocol, transport = connect(echo_body)
    assert protocol.head_timer is not None  # the connection's first head
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
    assert protocol.head_timer is None and protocol.body_timer is None
    await asyncio.sleep(0.01)
    assert transport.written.startswith(b"HTTP/1.1 200 ") and transport.written.endswith(b"\r\n\r\nhi")
    assert not transport.closed and not transport.eof  # kept alive


@in_loop
async def test_early_answer_with_connection_close_lingers_instead_of_resetting() -> None:
    protocol, transport = connect(refuse_body)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n")
    await asyncio.sleep(0.01)
    assert transport.written.startswith(b"HTTP/1.1 413 ") and b"connection: close" in transport.written
    assert transport.eof and not transport.closed  # write side shut, the rest of the body is read
    protocol.data_received(b"x" * 100_000)  # discarded, not parsed
    assert not transport.closed
    protocol.data_received(b"x" * (LIMITS.drain_bytes + 1))
    assert transport.closed


@in_loop
async def test_body_completed_after_all_keeps_the_connection() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    assert protocol.body_timer is not None  # armed once the body spans reads
    protocol.data_received(b"cd")
    await asyncio.sleep(0.01)
    assert b"connection: close" not in transport.written and transport.written.endswith(b"abcd")
    assert not transport.eof and not transport.closed and protocol.body_timer is None


@in_loop
async def test_stalled_body_is_408_and_the_app_sees_a_disconnect() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    await asyncio.sleep(LIMITS.body_timeout * 5)
    status, error = error_of(transport.written)
    assert (status, error["code"]) == (408, "request_timeout")
    assert transport.eof and protocol.cycle.disconnected


@in_loop
async def test_head_in_pieces_over_the_limit_is_431() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"GET / HTTP/1.1\r\nX: ")
    for _ in range(3):
        protocol.data_received(b"a" * 1000)
    status, error = error_of(transport.written)
    assert (status, error["code"]) == (431, "request_header_fields_too_large")
    assert protocol.cycle is None  # the app never ran


class Rendering:
    """`echo_body` with the gateway's own dialects, as the edge (app/edge.py) stands in front of its app."""

    def __init__(self) -> None:
        self.dialects = Dialects(discover())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await echo_body(scope, receive, send)

    def render(self, path: str, error: GatewayError) -> Response:
        return self.dialects.of(path).render(error)


@in_loop
async def test_a_head_refused_in_pieces_speaks_the_dialect_of_the_path_that_arrived() -> None:
    protocol, transport = connect(Rendering())
    protocol.data_received(b"POST /v2/translate?x=1 HTTP/1.1\r\nX: ")  # uvicorn's `url` holds what arrived
    for _ in range(3):
        protocol.data_received(b"a" * 1000)
    head, _, body = transport.written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ") and set(json.loads(body)) == {"message"}  # DeepL's shape


@in_loop
async def test_head_in_one_read_over_the_limit_is_431() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"GET / HTTP/1.1\r\nX: " + b"a" * 3000 + b"\r\n\r\n")
    assert error_of(transport.written)[0] == 431 and protocol.cycle is None


@in_loop
async def test_head_that_does_not_end_is_408_and_closed() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"GET / HTTP/1.1\r\n")
    await asyncio.sleep(LIMITS.header_timeout * 5)
    assert error_of(transport.written)[0] == 408 and transport.closed


@in_loop
async def test_silent_connection_is_closed_without_an_answer() -> None:
    _, transport = connect(echo_body)
    await asyncio.sleep(LIMITS.header_timeout * 5)
    assert transport.closed and transport.written == b""


@in_loop
async def test_malformed_and_websocket_are_json() -> None:
    protocol, transport = connect(echo_body)
    protocol.data_received(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")
    assert error_of(transport.written)[0] == 400
    protocol, transport = connect(echo_body)
    protocol.data_received(b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert error_of(transport.written) == (
        403,
        {
            "message": "WebSocket connections are not supported; use HTTP (stream=true for streamed answers).",
            "type": "invalid_request_error",
            "param": None,
            "code": "websocket_not_supported",
        },
    )

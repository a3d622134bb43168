"""A minimal HTTP/1.1 server for one ASGI app: the fake upstream's, so it stays far cheaper than the gateway.

uvicorn costs ~50 us of CPU per request on the test VM even for a canned answer (validation, default
headers, flow control, logging hooks, an object graph per request). Once the gateway dropped to ~235 us,
a uvicorn-served fake upstream was no longer the "at least 5x faster" upstream the method asks for. This
server does only what the benchmark's traffic needs: keep-alive HTTP/1.1 parsed by httptools, requests
with a Content-Length (or no) body, answers with a Content-Length (a single body message: head and body in
one write) or chunked (streams), and `http.disconnect` when the client leaves. No lifespan, no pipelining
beyond queueing, no TLS.
"""

from __future__ import annotations

import asyncio
import collections
import http
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httptools

Message = MutableMapping[str, Any]
App = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Any]

_STATUS = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in http.HTTPStatus}


class _Connection(asyncio.Protocol):
    def __init__(self, app: App, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.gone = loop.create_future()
        self.pending: collections.deque[tuple[dict[str, Any], bytes, bool]] = collections.deque()
        self.busy = False
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.gone.done():
            self.gone.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        path, _, query = self._url.partition(b"?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.parser.get_method().decode(),
            "scheme": "http",
            "path": path.decode("latin-1"),
            "raw_path": path,
            "query_string": query,
            "root_path": "",
            "headers": self._headers,
            "client": None,
            "server": None,
        }
        self.pending.append((scope, b"".join(self._body), self.parser.should_keep_alive()))
        if not self.busy:
            self._next()

    def _next(self) -> None:
        if self.pending and not self.gone.done():
            self.busy = True
            self.loop.create_task(self._serve(*self.pending.popleft()))
        else:
            self.busy = False

    async def _serve(self, scope: dict[str, Any], body: bytes, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        state = {"received": False, "head": b"", "sized": False, "done": False}

        async def receive() -> Message:
            if not state["received"]:
                state["received"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await self.gone
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if transport.is_closing():
                return
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                state["sized"] = any(name.lower() == b"content-length" for name, _ in headers)
                state["head"] = _STATUS[message["status"]] + b"".join(b"%s: %s\r\n" % pair for pair in headers)
                return
            data: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            head = state["head"]
            if head:  # the first body message decides the framing
                state["head"] = b""
                if not more:
                    length = b"\r\n" if state["sized"] else b"content-length: %d\r\n\r\n" % len(data)
                    transport.write(head + length + data)
                    state["done"] = True
                    return
                transport.write(head + b"transfer-encoding: chunked\r\n\r\n" + _chunk(data))
                return
            transport.write(_chunk(data) + (b"" if more else b"0\r\n\r\n"))
            state["done"] = not more

        try:
            await self.app(scope, receive, send)
        except Exception:
            if not state["done"]:
                transport.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                keep_alive = False
        if not keep_alive or not state["done"]:
            transport.close()
        self._next()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


async def serve(app: App, host: str, port: int, *, started: asyncio.Event | None = None) -> None:
    """Serve `app` until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(app, loop), host, port, backlog=4096)
    if started is not None:
        started.set()
    async with server:
        await server.serve_forever()

"""uvicorn's httptools protocol with the limits a server facing the internet needs.

uvicorn's `HttpToolsProtocol` bounds neither the size of a request head nor the time a head or a body may
take to arrive, answers malformed HTTP in `text/plain`, and closes the socket right after an early
answer (a 413 before the body was read), so the kernel resets the connection over the unread bytes and
the client never reads the answer. `GatewayProtocol` adds, per connection:

- a head deadline (`HEADER_TIMEOUT`) from the moment a connection opens, and from each later head's first
  byte to its end: a slow or silent client is dropped (a 408 if part of a head came); idle keep-alive
  connections are uvicorn's own `timeout_keep_alive` (`KEEPALIVE_TIMEOUT`);
- a head size limit (`MAX_HEADER_BYTES`): counted per read while a head is incomplete, so a huge head is
  refused with a 431 before it is buffered (exactly once the head is complete; a read that also ended a
  pipelined request is not counted, so such a head may pass the limit by at most one read, 256 KiB);
- a body idle limit (`BODY_TIMEOUT`): a body that stops arriving gets a 408 and the connection closes;
- error JSON for malformed HTTP (400), WebSocket upgrades (403) and the refusals above, in the dialect of the
  path the request was aimed at (as much of it as arrived), rendered by the app's edge (app/edge.py `render`);
- zero-copy file answers: GET and HEAD requests are offered ASGI's `http.response.pathsend`, answered with
  `os.sendfile` (app/pathsend.py);
- a lingering close after a final answer while the client may still be sending: the write side is shut
  (the answer is flushed first), what arrives is read and discarded, up to `LINGER_IDLE` seconds of silence,
  `LINGER_TOTAL` seconds and `Limits.drain_bytes` bytes, then the socket is closed.

Cost on the hot path: a request that arrives in one read arms no timer (the head deadline is armed per
connection and cancelled once); timers are armed only when a head or a body spans reads, once per
request, never per chunk: the body check re-arms itself only if bytes arrived in the meantime. It relies on
uvicorn's internals (the parser callbacks, `cycle`, `flow`, `pipeline`): tests/unit/test_server.py
checks those, and pyproject.toml pins the uvicorn versions they were read from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

import httptools
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from app.errors import GatewayError, InvalidRequest, error_response
from app.pathsend import FILE_METHODS, PATHSEND, PathsendCycle

LINGER_IDLE = 5.0  # nginx's lingering_timeout
LINGER_TOTAL = 30.0  # nginx's lingering_time
MIN_DRAIN_BYTES = 64 * 1024 * 1024
_base = HttpToolsProtocol  # the parser callbacks call it directly: a super() lookup costs more, per request


@dataclass(frozen=True)
class Limits:
    """What one connection may cost; picklable, so uvicorn can hand it to worker processes."""

    header_timeout: float
    body_timeout: float
    max_header_bytes: int
    max_body_bytes: int

    @property
    def drain_bytes(self) -> int:
        """Bytes read and discarded after an early answer before the connection is cut."""
        return max(MIN_DRAIN_BYTES, 2 * self.max_body_bytes)


class HeadTooLarge(Exception):
    """Raised from a parser callback: httptools then stops parsing."""


Render = Callable[[str, GatewayError], Response]


def _openai(path: str, error: GatewayError) -> Response:
    return error_response(error)


def renderer_of(app: Any) -> Render:
    """The edge's `render` (app/edge.py), under whatever uvicorn wrapped the app in (proxy headers, ...);
    OpenAI's shape for an app that has none."""
    for _ in range(8):
        render = getattr(app, "render", None)
        if callable(render):
            return render  # type: ignore[no-any-return]
        app = getattr(app, "app", None)
    return _openai


def error_bytes(error: GatewayError, default_headers: list[tuple[bytes, bytes]], render: Render, path: str) -> bytes:
    """A whole HTTP/1.1 error answer that closes the connection, in the dialect of the route `path` (what of
    it has arrived) was aimed at: the edge's renderer supplies the status and body."""
    answer = render(path, error)
    body, status = bytes(answer.body), answer.status_code
    head = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
    return b"".join(head) + body


class _LingeringTransport:
    """What an answer's cycle writes through while its request body is still arriving: closing it lingers."""

    def __init__(self, protocol: GatewayProtocol, transport: asyncio.Transport) -> None:
        self._protocol = protocol
        self._transport = transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._protocol.linger()


class GatewayProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with head and body limits, JSON errors and a lingering close."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.render = renderer_of(self.app)
        self.max_head = limits.max_header_bytes
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.linger_timer: asyncio.TimerHandle | None = None
        self.in_head = False  # a request head has begun and is not complete
        self.in_body = False  # a request head is complete and its body is not
        self.head_bytes = 0  # bytes of reads that ended inside the current head
        self.segment = 0  # length of the read being parsed
        self.completed = False  # a message ended in the read being parsed
        self.reads = 0  # reads so far: progress, for the body and linger checks
        self.reads_seen = 0
        self.lingering = False
        self.drained = 0
        self.keep_alive_wanted = True
        self.shutting_down = False
        self.linger_deadline = 0.0

    @classmethod
    def with_limits(cls, limits: Limits) -> type[GatewayProtocol]:
        """What uvicorn's `Config(http=...)` takes: a factory it calls like the protocol class."""
        return partial(cls, limits=limits)  # type: ignore[return-value]

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.head_timer, self.body_timer, self.linger_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if self.lingering:
            self.drained += len(data)
            if self.drained > self.limits.drain_bytes:
                self.transport.close()
            return
        self._unset_keepalive_if_required()
        self.segment = len(data)
        self.completed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                self._refuse_head()
            else:
                self._refuse_malformed(exc)
            return
        if self.in_head:
            if not self.completed:  # else part of this read was an earlier message: not counted
                self.head_bytes += len(data)
            if self.head_bytes > self.max_head:
                self._refuse_head()
            elif self.head_timer is None:
                self.head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
        elif self.in_body and self.body_timer is None and not self.lingering:
            self.reads_seen = self.reads
            self.body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)
            if self.cycle is not None and not self.cycle.response_complete:
                self._answer_early(self.cycle)

    # httptools parser callbacks

    def on_message_begin(self) -> None:
        self.in_head = True
        self.head_bytes = 0
        _base.on_message_begin(self)

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        if self.head_bytes + self.segment > self.max_head and self._head_size() > self.max_head:
            raise HeadTooLarge
        self.in_body = True
        _base.on_headers_complete(self)
        scope = self.scope
        if scope["method"] in FILE_METHODS and self.cycle is not None and self.cycle.scope is scope:
            # A file may be the answer: offer zero-copy (app/pathsend.py). An upgrade made no cycle.
            scope["extensions"] = {PATHSEND: {}}
            self.cycle.__class__ = PathsendCycle

    def on_message_complete(self) -> None:
        self.in_body = False
        self.completed = True
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
            if self.cycle is not None and isinstance(self.cycle.transport, _LingeringTransport):
                self.cycle.transport = self.transport  # the body is whole: the connection may be kept
                self.cycle.keep_alive = self.keep_alive_wanted and not self.shutting_down
        _base.on_message_complete(self)

    def _answer_early(self, cycle: RequestResponseCycle) -> None:
        """Until its body is whole, an answer says `connection: close` and closing lingers (a 413 is read)."""
        self.keep_alive_wanted = cycle.keep_alive
        cycle.keep_alive = False
        cycle.transport = _LingeringTransport(self, self.transport)  # type: ignore[assignment]

    def _head_size(self) -> int:
        """The exact size of the head just parsed (only worked out when a read was larger than the limit)."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) + 16

    # uvicorn hooks

    def on_response_complete(self) -> None:
        if self.in_body and not self.pipeline:
            self.linger()  # answered before its body came (a 413): the rest is drained, not parsed
        if self.lingering:
            self.server_state.total_requests += 1
            return
        super().on_response_complete()

    def shutdown(self) -> None:
        self.shutting_down = True
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        self._refuse(InvalidRequest("The request is not valid HTTP/1.1.", code="invalid_http"))

    def _should_upgrade_to_ws(self) -> bool:
        return True  # every WebSocket upgrade reaches handle_websocket_upgrade, which refuses it

    def handle_websocket_upgrade(self) -> None:
        self._refuse(
            InvalidRequest(
                "WebSocket connections are not supported; use HTTP (stream=true for streamed answers).",
                status_code=403,
                code="websocket_not_supported",
            )
        )

    # Refusals and closing

    def _refuse_malformed(self, exc: httptools.HttpParserError) -> None:
        self.logger.debug("invalid HTTP request: %s", exc)
        reason = "" if isinstance(exc, httptools.HttpParserCallbackError) else f" ({str(exc).rstrip('.')})"
        self._refuse(InvalidRequest(f"The request is not valid HTTP/1.1{reason}.", code="invalid_http"))

    def _refuse_head(self) -> None:
        message = f"The request head is larger than this gateway accepts ({self.limits.max_header_bytes} bytes)."
        self._refuse(InvalidRequest(message, status_code=431, code="request_header_fields_too_large"))

    def _refuse(self, error: GatewayError, *, linger: bool = True) -> None:
        """Answer `error` on the socket itself and close: in place of the request whose body is arriving (its
        app sees a disconnect), or between requests; a connection busy answering is just closed."""
        if self.transport.is_closing() or self.lingering:
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started or not self.in_body:
                self.transport.close()
                return
            cycle.response_started = cycle.response_complete = True
            cycle.disconnected = True  # the app's receive() now returns http.disconnect; its send() does nothing
            cycle.message_event.set()
        self.transport.write(error_bytes(error, self.server_state.default_headers, self.render, self._path()))
        if linger:
            self.linger()
        else:
            self.transport.close()

    def _path(self) -> str:
        """The path of the request being refused, as far as it arrived (its dialect is known by its start)."""
        if self.in_body and self.cycle is not None:
            path: str = self.cycle.scope["path"]
            return path
        return self.url.partition(b"?")[0].decode("latin-1")

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if not self.in_head:  # nothing came on a new connection
            self.transport.close()
            return
        seconds = self.limits.header_timeout
        message = f"The request head did not arrive within {seconds:g} s."
        # A client this slow to send a head gets no lingering close.
        self._refuse(InvalidRequest(message, status_code=408, code="request_timeout"), linger=False)

    def _check_body(self) -> None:
        self.body_timer = None
        if not self.in_body or self.lingering or self.transport.is_closing():
            return
        if self.reads != self.reads_seen or self.flow.read_paused:  # bytes came, or the app is slow to read
            self.reads_seen = self.reads
            self.body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)
            return
        seconds = self.limits.body_timeout
        message = f"The request body stopped arriving for {seconds:g} s."
        self._refuse(InvalidRequest(message, status_code=408, code="request_timeout"))

    def linger(self) -> None:
        """Shut the write side once the answer is flushed, discard what still comes, close within bounds."""
        if self.lingering or self.transport.is_closing():
            return
        self.lingering = True
        self._unset_keepalive_if_required()
        for timer in (self.head_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.head_timer = self.body_timer = None
        self.flow.resume_reading()
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.linger_deadline = self.loop.time() + LINGER_TOTAL
        self.reads_seen = self.reads
        self.linger_timer = self.loop.call_later(LINGER_IDLE, self._check_linger)

    def _check_linger(self) -> None:
        self.linger_timer = None
        if self.transport.is_closing():
            return
        if self.reads == self.reads_seen or self.loop.time() >= self.linger_deadline:
            self.transport.close()
            return
        self.reads_seen = self.reads
        self.linger_timer = self.loop.call_later(LINGER_IDLE, self._check_linger)

"""Keep-alive HTTP/1.1 connections to the one origin the gateway talks to.

Why not aiohttp: on the bench machine an aiohttp POST costs 190-250 us of CPU, this pool 45-75 us
(`python -m bench.studies.clients`, figures in `bench/README.md`). aiohttp builds a dozen objects a
request (URL, multidicts, request and response objects, payload, writer, timers, traces) for features one
fixed origin never uses. Here a request is one `write` of pre-formatted bytes and one future; parsing is
httptools, the C HTTP parser (llhttp) uvicorn already runs on, with chunked transfer decoding built in.

What it does: HTTP and HTTPS, directly or through an outbound proxy (`dial.py`), a bounded pool (callers
queue for a free slot, and that wait counts towards the request's time limit), idle connections dropped
after `keepalive` seconds or when the peer closes them, gzip/deflate bodies, a size cap on every answer,
a total time limit for buffered requests and a per-read limit for streams, back-pressure on streams (the
socket stops being read while 256 KiB wait for a slow client). A connection whose transport is gone gives
its slot back, whichever path closed it. Failures surface as `TimeoutError` and `ConnectionError`
(subclasses in `connection.py`); `client.py` translates them once.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.proxies import Proxy
from app.upstream.connection import (
    READ_HIGH_WATER,
    BadResponse,
    Connection,
    ConnectTimeout,
    PoolTimeout,
    ProxyFailed,
    Stalled,
)
from app.upstream.dial import Dialer
from app.upstream.streaming import StreamingResponse, decoder, inflate, media_type

__all__ = [
    "READ_HIGH_WATER",
    "BadResponse",
    "ConnectTimeout",
    "ConnectionPool",
    "PoolTimeout",
    "ProxyFailed",
    "Response",
    "Stalled",
]
__all__ += ["StreamingResponse"]

DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024
LARGE_BODY = 1024 * 1024  # bytes of request body above which head and body are written separately


@dataclass(frozen=True, slots=True)
class Response:
    """A buffered answer: status, the few headers the gateway reads (lower-case names), the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return media_type(self.headers)


class ConnectionPool:
    """At most `max_connections` keep-alive connections to the origin of `base_url`."""

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int = 4096,
        connect_timeout: float = 10.0,
        keepalive: float = 30.0,
        user_agent: str = "workers-ai-gateway",
        tls: ssl.SSLContext | None = None,
        proxy: Proxy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE,
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path_prefix = url.path.rstrip("/")
        tls_context: ssl.SSLContext | None = None
        if url.scheme == "https":  # the system's CA store, host name checked (`tls` replaces it in tests)
            tls_context = tls or ssl.create_default_context()
        self._dialer = Dialer(self.host, self.port, tls_context, proxy)
        default_port = self.port == (443 if url.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._fixed_headers = f"Host: {host if default_port else f'{host}:{self.port}'}\r\nUser-Agent: {user_agent}\r\n"
        self._max = max_connections
        self._cap = max_response_bytes
        self._connect_timeout = connect_timeout
        self._keepalive = keepalive
        self._idle: list[Connection] = []  # most recently used last
        self._open = 0  # connections open or opening
        self._conns: set[Connection] = set()  # every open connection, idle or busy (closed at shutdown)
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def counters(self) -> dict[str, int]:
        """Slots in use, idle connections and callers waiting for a slot (tests and diagnostics)."""
        waiting = sum(1 for slot in self._queue if not slot.done())
        return {"open": self._open, "idle": len(self._idle), "busy": self._open - len(self._idle), "waiting": waiting}

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | bytearray = b"", *, timeout: float
    ) -> Response:
        """Send a request and read the whole answer within `timeout` seconds (the wait for a slot included)."""
        head = self._head(method, path, headers, body)
        # A large body (an audio upload, 25 MB) is not copied onto the head: that copy doubled peak memory.
        message = head + body if len(body) < LARGE_BODY else (head, body)
        conn = await self._exchange(message, timeout=timeout, streaming=False)
        raw = conn.body()
        self.release(conn)
        encoding = conn.headers.get("content-encoding")
        if encoding and (decompress := decoder(encoding)) is not None:
            raw = inflate(decompress, raw, self._cap)
        return Response(conn.status, conn.headers, raw)

    async def stream(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        *,
        timeout: float,
        read_timeout: float,
        meanwhile: Callable[[], object] | None = None,
    ) -> StreamingResponse:
        """Send a request and return once the answer's head arrived (within `timeout`, the wait for a slot
        included); the body is read by iterating the result, each read within `read_timeout`. `meanwhile` is
        called once the request is sent, before the answer is awaited: the caller's set-up runs while the
        upstream works, not after."""
        request = self._head(method, path, headers, body) + body
        conn = await self._exchange(request, timeout=timeout, streaming=True, meanwhile=meanwhile)
        try:
            return StreamingResponse(self.release, conn, read_timeout, self._cap)
        except BaseException:  # an encoding it cannot decode: the connection goes back before the error
            conn.close()
            self.release(conn)
            raise

    async def _exchange(
        self,
        request: bytes | tuple[bytes, bytes | bytearray],
        *,
        timeout: float,
        streaming: bool,
        meanwhile: Callable[[], object] | None = None,
    ) -> Connection:
        """Send `request` (head and body, formatted by `_head`: a header that could break its line is
        refused before a connection is taken) on a pooled connection and wait, within `timeout`, for the
        answer's head (streaming) or all of it. On any failure, cancellation included, the connection is
        dropped, never reused."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        conn = await self._acquire(loop, deadline)
        timer = loop.call_at(deadline, conn.fail, TimeoutError())
        try:
            conn.send(request, streaming=streaming)
            if meanwhile is not None:
                meanwhile()
            await (conn.wait_head() if streaming else conn.wait_complete())
        except BaseException:
            conn.close()
            self.release(conn)
            raise
        finally:
            timer.cancel()
        return conn

    def _head(self, method: str, path: str, headers: dict[str, str], body: bytes | bytearray) -> bytes:
        lines = "".join(f"{name}: {_checked(value)}\r\n" for name, value in headers.items())
        length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
        return f"{method} {self.path_prefix}{path} HTTP/1.1\r\n{self._fixed_headers}{lines}{length}\r\n".encode()

    async def _acquire(self, loop: asyncio.AbstractEventLoop, deadline: float) -> Connection:
        while True:
            if self._closed:
                raise ConnectionError("the upstream client is closed")
            now = loop.time()
            while self._idle:
                conn = self._idle.pop()
                if not conn.broken and now - conn.idle_since < self._keepalive:
                    return conn
                self._drop(conn)
            if self._open < self._max:
                break
            await self._wait_for_slot(loop, deadline)
        self._open += 1
        connect_by = loop.time() + self._connect_timeout
        try:
            async with asyncio.timeout_at(min(deadline, connect_by)):
                conn = await self._dialer.dial(loop, lambda: Connection(loop, self._lost, self._cap))
        except BaseException as exc:
            self._open -= 1
            self._wake_next()
            if isinstance(exc, TimeoutError) and self._dialer.proxy is not None:
                raise ProxyFailed(f"no connection through the proxy {self._dialer.proxy.safe_url} in time") from None
            if isinstance(exc, TimeoutError) and connect_by <= deadline:  # the connect timeout, not the call's
                raise ConnectTimeout(self._connect_timeout) from None
            raise
        self._conns.add(conn)
        if self.closed:  # closed while it connected
            self._drop(conn)
            raise ConnectionError("the upstream client is closed")
        return conn

    async def _wait_for_slot(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Queue for a free slot until `deadline` (the request's own time limit), then PoolTimeout."""
        slot = loop.create_future()
        self._queue.append(slot)
        try:
            async with asyncio.timeout_at(deadline):
                await slot
        except (asyncio.CancelledError, TimeoutError) as exc:
            if slot.done() and not slot.cancelled():
                self._wake_next()  # hand the slot we were given to the next in line
            if isinstance(exc, TimeoutError):
                raise PoolTimeout() from None
            raise

    def release(self, conn: Connection) -> None:
        """Take a connection back: kept for reuse when its answer was read to the end, else closed."""
        if conn.broken or not conn.complete or self._closed:
            self._drop(conn)
        else:
            conn.idle_since = conn.last_read or asyncio.get_running_loop().time()
            self._idle.append(conn)
            self._expire_oldest(conn.idle_since)
        self._wake_next()

    def _drop(self, conn: Connection) -> None:
        conn.close()
        self._forget(conn)

    def _forget(self, conn: Connection) -> bool:
        """The one place a slot is given back (once a connection): dropped by us, or its transport lost."""
        if conn.dropped:
            return False
        conn.dropped = True
        self._open -= 1
        self._conns.discard(conn)
        return True

    def _lost(self, conn: Connection) -> None:
        """A transport closed (by the peer, a failure, a timer): its slot is free, whoever holds it."""
        if self._forget(conn):
            self._wake_next()

    def _expire_oldest(self, now: float) -> None:
        while self._idle and now - self._idle[0].idle_since >= self._keepalive:
            self._drop(self._idle.pop(0))

    def _wake_next(self) -> None:
        while self._queue:
            slot = self._queue.popleft()
            if not slot.done():
                slot.set_result(None)
                return

    async def close(self) -> None:
        """Every connection closed, busy ones included (their readers get a ConnectionError), and every
        caller waiting for a slot woken to fail: shutdown never waits on the upstream."""
        self._closed = True
        self._idle.clear()
        for conn in list(self._conns):
            conn.fail(ConnectionError("the upstream client is closed"))
            self._forget(conn)
        for slot in self._queue:
            if not slot.done():
                slot.set_result(None)  # they wake, see the pool closed, and raise
        self._queue.clear()
        await asyncio.sleep(0)  # let transports run their close callbacks


def _checked(value: str) -> str:
    """A header value as sent: refused if it could break out of its line (a client's own token travels in
    passthrough mode)."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError("a header value holds a line break or NUL")
    return value

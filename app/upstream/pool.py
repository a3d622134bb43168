"""Keep-alive HTTP/1.1 connections to the one origin the gateway talks to.

Why not aiohttp: on the bench machine an aiohttp POST costs 190-250 us of CPU, this pool 45-75 us
(`python -m bench.clients`, figures in `bench/README.md`). aiohttp builds a dozen objects a request (URL, multidicts,
request and response objects, payload, writer, timers, traces) for features one fixed origin never
uses. Here a request is one `write` of pre-formatted bytes and one future; parsing is httptools, the C
HTTP parser (llhttp) uvicorn already runs on, with chunked transfer decoding built in.

What it does: HTTP and HTTPS, a bounded pool (callers queue for a free slot), idle connections dropped
after `keepalive` seconds or when the peer closes them, gzip/deflate bodies, a total time limit for
buffered requests and a per-read limit for streams, back-pressure on streams (the socket stops being
read while 256 KiB wait for a slow client). Failures surface as `TimeoutError` and `ConnectionError`;
`client.py` translates them once.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

READ_HIGH_WATER = 256 * 1024  # bytes of a stream waiting for its reader before the socket is paused
LARGE_BODY = 1024 * 1024  # bytes of request body above which head and body are written separately
_KEPT_HEADERS = frozenset({b"content-type", b"content-encoding", b"content-length", b"transfer-encoding"})
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Response:
    """A buffered answer: status, the few headers the gateway reads (lower-case names), the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return _media_type(self.headers)


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time. The parser's callbacks fill the current exchange; the
    caller waits on one future at a time (`_wait`), woken once per read that the parser fed (and by failures)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.broken = False  # never reuse: closed by the peer, failed, or not read to the end
        self.dropped = False  # the pool no longer counts it
        self.idle_since = 0.0
        self._streaming = False
        self._waiter: asyncio.Future[None] | None = None
        self._busy = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self.head_done = False
        self.complete = False
        self._error: BaseException | None = None
        self.last_read = 0.0

    # -- the exchange, seen from the caller --------------------------------------------------------------

    def send(self, data: bytes | tuple[bytes, bytes | bytearray], *, streaming: bool) -> None:
        self._reset()
        self._busy = True
        self._streaming = streaming
        assert self.transport is not None
        if isinstance(data, tuple):  # head and a large body: handed to the transport as they are, not joined
            self.transport.writelines(data)
        else:
            self.transport.write(data)

    async def wait_head(self) -> None:
        while not self.head_done:
            await self._wait()

    async def wait_complete(self) -> None:
        while not self.complete:
            await self._wait()
        self._busy = False

    def body(self) -> bytes:
        return b"".join(self._chunks)

    @property
    def ready(self) -> bool:
        """`read_some` would return without waiting."""
        return bool(self._chunks) or self.complete or self._error is not None

    async def read_some(self) -> bytes | None:
        """What arrived since the last call (waiting for something), or None once the body ended."""
        while not self._chunks:
            if self.complete:
                self._busy = False
                return None
            await self._wait()
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        self._waiter = self._loop.create_future()
        await self._waiter

    def fail(self, error: BaseException) -> None:
        """End the exchange with `error` (timeouts, a broken connection, garbage from the peer)."""
        if self._error is None and not self.complete:
            self._error = error
        self.close()
        self._wake(error)

    def close(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.close()

    def _wake(self, error: BaseException | None = None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    # -- asyncio.Protocol ----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports don't subclass asyncio's

    def data_received(self, data: bytes) -> None:
        if not self._busy:  # bytes nobody asked for: the connection can't be trusted any more
            self.close()
            return
        self.last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(ConnectionError(f"malformed HTTP response ({exc})"))
            return
        # Once a read, not once a chunk: the caller's waits all loop until what they wait for is there.
        if self._streaming and self._buffered > READ_HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.broken = True
        return False  # let the transport close; connection_lost settles the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.broken = True
        if not self._busy or self.complete:
            return
        if self.head_done and self._delimited_by_close():
            self.complete = True
            self._wake()
            return
        self.fail(ConnectionResetError("the connection closed before the response ended"))

    def _delimited_by_close(self) -> bool:
        return "content-length" not in self.headers and "chunked" not in self.headers.get("transfer-encoding", "")

    # -- httptools callbacks ---------------------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in _KEPT_HEADERS:
            self.headers[name.decode("latin-1")] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim 1xx answer: the real one follows on the same exchange
            self.head_done = False
            return
        self.complete = True
        if not self._parser.should_keep_alive():
            self.broken = True


class StreamingResponse:
    """An answer whose body is read as it arrives. Iterate for the (decoded) body bytes; `aclose` to give
    the connection back (it is dropped if the body was not read to the end)."""

    def __init__(self, pool: ConnectionPool, conn: _Connection, read_timeout: float) -> None:
        self.status = conn.status
        self.headers = conn.headers
        self._pool = pool
        self._conn: _Connection | None = conn
        self._read_timeout = read_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._decoder = _decoder(conn.headers.get("content-encoding", ""))

    @property
    def content_type(self) -> str:
        return _media_type(self.headers)

    async def read(self) -> bytes:
        """The whole body (for an answer that turned out not to be a stream)."""
        parts = [chunk async for chunk in self]
        return b"".join(parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (data := await self.read_some()) is not None:
            yield data

    async def read_some(self) -> bytes | None:
        """The body bytes that arrived since the last call (waiting for some), or None at its end; the
        connection goes back to the pool then. (A coroutine, not a generator: one layer less a chunk.)"""
        conn = self._conn
        if conn is None:
            return None
        if self._timer is None and not conn.ready:
            self._arm(conn)  # the first wait starts the read timeout (bytes already here need none)
        data = await conn.read_some()
        if data is None:
            tail = self._decoder.flush() if self._decoder is not None else b""
            await self.aclose()
            return tail or None
        return self._decoder.decompress(data) if self._decoder is not None else data

    def _arm(self, conn: _Connection) -> None:
        """A read timeout that costs nothing per chunk: one timer that, when it fires, checks how long the
        socket has really been quiet and sleeps again for the rest."""
        loop = asyncio.get_running_loop()
        conn.last_read = loop.time()

        def check() -> None:
            quiet = loop.time() - conn.last_read
            if quiet >= self._read_timeout:
                conn.fail(TimeoutError())
            else:
                self._timer = loop.call_later(self._read_timeout - quiet, check)

        self._timer = loop.call_later(self._read_timeout, check)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)


def _decoder(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
    if encoding in ("", "identity"):
        return None
    raise ConnectionError(f"unsupported Content-Encoding {encoding!r}")


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
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path_prefix = url.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = None
        if url.scheme == "https":  # the system's CA store, host name checked (`tls` replaces it in tests)
            self._ssl = tls or ssl.create_default_context()
        default_port = self.port == (443 if url.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._fixed_headers = f"Host: {host if default_port else f'{host}:{self.port}'}\r\nUser-Agent: {user_agent}\r\n"
        self._max = max_connections
        self._connect_timeout = connect_timeout
        self._keepalive = keepalive
        self._idle: list[_Connection] = []  # most recently used last
        self._open = 0  # connections open or opening
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | bytearray = b"", *, timeout: float
    ) -> Response:
        """Send a request and read the whole answer within `timeout` seconds."""
        head = self._head(method, path, headers, body)
        # A large body (an audio upload, 25 MB) is not copied onto the head: that copy doubled peak memory.
        message = head + body if len(body) < LARGE_BODY else (head, body)
        conn = await self._exchange(message, timeout=timeout, streaming=False)
        raw = conn.body()
        self.release(conn)
        decoder = _decoder(conn.headers.get("content-encoding", ""))
        if decoder is not None:
            raw = _inflate(decoder, raw)
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
        """Send a request and return once the answer's head arrived (within `timeout`); the body is read by
        iterating the result, each read within `read_timeout`. `meanwhile` is called once the request is
        sent, before the answer is awaited: the caller's set-up runs while the upstream works, not after."""
        request = self._head(method, path, headers, body) + body
        conn = await self._exchange(request, timeout=timeout, streaming=True, meanwhile=meanwhile)
        return StreamingResponse(self, conn, read_timeout)

    async def _exchange(
        self,
        request: bytes | tuple[bytes, bytes | bytearray],
        *,
        timeout: float,
        streaming: bool,
        meanwhile: Callable[[], object] | None = None,
    ) -> _Connection:
        """Send `request` (head and body, formatted by `_head`: a header that could break its line is
        refused before a connection is taken) on a pooled connection and wait, within `timeout`, for the
        answer's head (streaming) or all of it. On any failure, cancellation included, the connection is
        dropped, never reused."""
        loop = asyncio.get_running_loop()
        conn = await self._acquire(loop)
        timer = loop.call_later(timeout, conn.fail, TimeoutError())
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

    async def _acquire(self, loop: asyncio.AbstractEventLoop) -> _Connection:
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
            slot = loop.create_future()
            self._queue.append(slot)
            try:
                await slot
            except asyncio.CancelledError:
                if slot.done() and not slot.cancelled():
                    self._wake_next()  # hand the slot we were given to the next in line
                raise
        self._open += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop),
                    self.host,
                    self.port,
                    ssl=self._ssl,
                )
        except BaseException:
            self._open -= 1
            self._wake_next()
            raise
        return conn

    def release(self, conn: _Connection) -> None:
        """Take a connection back: kept for reuse when its answer was read to the end, else closed."""
        if conn.broken or not conn.complete or self._closed:
            self._drop(conn)
        else:
            conn.idle_since = conn.last_read or asyncio.get_running_loop().time()
            self._idle.append(conn)
            self._expire_oldest(conn.idle_since)
        self._wake_next()

    def _drop(self, conn: _Connection) -> None:
        if not conn.dropped:
            conn.dropped = True
            conn.close()
            self._open -= 1

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
        self._closed = True
        while self._idle:
            self._drop(self._idle.pop())
        for slot in self._queue:
            if not slot.done():
                slot.set_result(None)  # they wake, see the pool closed, and raise
        self._queue.clear()
        await asyncio.sleep(0)  # let transports run their close callbacks


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def _checked(value: str) -> str:
    """A header value as sent: refused if it could break out of its line (a client's own token travels in
    passthrough mode)."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError("a header value holds a line break or NUL")
    return value


def _inflate(decoder: zlib._Decompress, raw: bytes) -> bytes:
    try:
        return decoder.decompress(raw) + decoder.flush()
    except zlib.error as exc:
        raise ConnectionError(f"undecodable compressed body ({exc})") from exc

"""One keep-alive HTTP/1.1 connection (an `asyncio.Protocol` fed to httptools), and the failures the pool
names. `connection_pool.py` owns the connections; `streaming.py` reads stream bodies from them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httptools

READ_HIGH_WATER = 256 * 1024  # bytes of a stream waiting for its reader before the socket is paused
MAX_HEAD = 64 * 1024  # bytes an answer's head may take (Workers AI's are under 2 KiB)
_KEPT_HEADERS = frozenset({b"content-type", b"content-encoding", b"content-length", b"transfer-encoding"})


class BadResponse(ConnectionError):
    """The upstream answered something no HTTP client should accept (malformed, too large, undecodable)."""


class ProxyFailed(ConnectionError):
    """The outbound proxy could not be used; the message names it by its safe URL only."""


class PoolTimeout(TimeoutError):
    """No connection became free before the request's time limit."""


class ConnectTimeout(TimeoutError):
    """No connection to the upstream was made within the connect timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Stalled(TimeoutError):
    """A stream that kept sending bytes but no content for its read timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Connection(asyncio.Protocol):
    """One connection, one exchange at a time. The parser's callbacks fill the current exchange; the
    caller waits on one future at a time (`_wait`), woken once per read that the parser fed (and by failures).
    `on_lost` is the pool's: a connection whose transport is gone gives its slot back, whoever holds it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_lost: Callable[[Connection], None], cap: int) -> None:
        self._loop = loop
        self._on_lost = on_lost
        self._cap = cap  # most body bytes an answer may have
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
        self._total = 0
        self._head_bytes = 0
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
        """Never reused again. `abort`, not `close`: a peer that stopped reading must not keep the socket
        (and its slot) open while the transport waits to flush what it would not read."""
        self.broken = True
        if self.transport is not None:
            self.transport.abort()

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
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            own = exc.__context__  # raised by a callback below
            self.fail(own if isinstance(own, BadResponse) else BadResponse(f"malformed HTTP response ({exc})"))
            return
        if self._total > self._cap:
            self.fail(BadResponse(f"its answer is larger than {self._cap} bytes (UPSTREAM_MAX_RESPONSE_BYTES)"))
            return
        if not self.head_done:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self.fail(BadResponse(f"its answer's head is larger than {MAX_HEAD} bytes"))
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
        self._on_lost(self)
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
        self._total += len(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim 1xx answer: the real one follows on the same exchange
            if self.status == 101:
                raise BadResponse("malformed HTTP response (101 Switching Protocols to a plain request)")
            self.head_done = False
            self.headers = {}
            return
        self.complete = True
        if not self._parser.should_keep_alive():
            self.broken = True

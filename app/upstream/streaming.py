"""Answers whose body is read as it arrives, and the decoding of compressed bodies (bounded in size)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable

from app.upstream.connection import BadResponse, Connection, Stalled


class StreamingResponse:
    """An answer whose body is read as it arrives. Iterate for the (decoded) body bytes; `aclose` to give
    the connection back (it is dropped if the body was not read to the end).

    Its read timeout starts with the answer, so one that nobody reads still gives its connection back.
    A reader that judges progress itself (an SSE translator that sees only empty events) hands a probe
    to `watch`, and the same one timer then checks that instead of the socket."""

    def __init__(self, release: Callable[[Connection], None], conn: Connection, read_timeout: float, cap: int) -> None:
        self.status = conn.status
        self.headers = conn.headers
        self._release = release  # the pool takes a connection whose body was read to the end back
        self._conn: Connection | None = conn
        self._read_timeout = read_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._progress: Callable[[], int] | None = None
        self._seen = 0
        self._progress_at = 0.0
        self._cap = cap
        encoding = conn.headers.get("content-encoding")
        self._decoder = decoder(encoding) if encoding else None  # the caller gives the connection back
        self._arm(conn)

    @property
    def content_type(self) -> str:
        return media_type(self.headers)

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
        data = await conn.read_some()
        if data is None:
            tail = self._decoder.flush() if self._decoder is not None else b""
            await self.aclose()
            return tail or None
        return data if self._decoder is None else self._decode(conn, data)

    def _decode(self, conn: Connection, data: bytes) -> bytes:
        assert self._decoder is not None
        try:
            out = self._decoder.decompress(data, self._cap)
        except zlib.error as exc:
            error: BadResponse = BadResponse(f"undecodable compressed body ({exc})")
        else:
            self._cap -= len(out)
            if not self._decoder.unconsumed_tail and self._cap > 0:
                return out
            error = BadResponse("its decompressed answer exceeds UPSTREAM_MAX_RESPONSE_BYTES")
        conn.fail(error)
        raise error

    def watch(self, progress: Callable[[], int]) -> None:
        """Judge quiet by `progress` (a count that grows as content arrives) instead of the socket's bytes:
        a stream of empty events then ends too. Costs nothing per chunk: the one timer reads the count."""
        self._progress = progress
        self._seen = progress()
        self._progress_at = asyncio.get_running_loop().time()

    def _arm(self, conn: Connection) -> None:
        """A read timeout that costs nothing per chunk: one timer that, when it fires, checks how long the
        socket (or the watched progress) has really been quiet and sleeps again for the rest."""
        loop = asyncio.get_running_loop()
        conn.last_read = loop.time()
        limit = self._read_timeout

        def check() -> None:
            now = loop.time()
            progress = self._progress
            if progress is None:
                quiet = now - conn.last_read
            else:
                # Progress made since the last look came with a read no later than the socket's last one:
                # dated so, a silence is timed from its first quiet second (dated `now`, a silence after
                # content was waited out for up to twice the limit). A run of empty events after content
                # is timed from its last read, seen at most limit/4 late: it ends within 1.25 x the limit.
                if (seen := progress()) != self._seen:
                    self._seen, self._progress_at = seen, conn.last_read
                quiet = now - self._progress_at
            if quiet >= limit:
                self._timer = None
                conn.fail(TimeoutError() if progress is None else Stalled(limit))
                return
            rest = limit - quiet
            self._timer = loop.call_later(rest if progress is None else min(rest, limit / 4), check)

        self._timer = loop.call_later(limit, check)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        conn, self._conn = self._conn, None
        if conn is not None:
            self._release(conn)


def decoder(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
    if encoding in ("", "identity"):
        return None
    raise BadResponse(f"unsupported Content-Encoding {encoding[:40]!r}")


def inflate(decompress: zlib._Decompress, raw: bytes, cap: int) -> bytes:
    """A whole compressed body, refused once it would decode to more than `cap` bytes (a zip bomb)."""
    try:
        out = decompress.decompress(raw, cap + 1)
        if len(out) > cap or decompress.unconsumed_tail:
            raise BadResponse("its decompressed answer exceeds UPSTREAM_MAX_RESPONSE_BYTES")
        return out + decompress.flush()
    except zlib.error as exc:
        raise BadResponse(f"undecodable compressed body ({exc})") from exc


def media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()

"""Zero-copy file answers: the ASGI `http.response.pathsend` extension on uvicorn's httptools cycle.

uvicorn 0.55 does not offer `http.response.pathsend`, so Starlette's FileResponse would read the file in
64 KB chunks (each in a thread) and write every chunk through the transport: the bytes pass through Python
and the transport's buffer. `GatewayProtocol` advertises the extension on GET and HEAD requests (the only
ones a file is served to; a POST's cycle is untouched, so the chat and embedding paths pay nothing) and
makes their cycle a `PathsendCycle`, which answers the message with `os.sendfile`: the kernel copies page
cache to the socket and no byte of the file enters Python.

How, on uvloop: uvloop has no `loop.sendfile` (it is asyncio's `NotImplementedError` stub) and refuses
`add_writer` on a socket its transport owns. So the cycle waits for the transport's own write buffer (the
response head) to drain, pauses reading (no pipelined request is parsed meanwhile), and calls
`os.sendfile` on the non-blocking socket directly; when the socket is full it waits for writability with
`loop.add_writer` on a `dup` of the socket's descriptor (a different descriptor number, the same socket),
so the loop never blocks. A client that goes away ends it with EPIPE/ECONNRESET: the connection is closed,
the duplicate and the file are closed in `finally` (also on cancellation). TLS (the kernel cannot encrypt),
a transport without a socket, HEAD and a chunked answer fall back to chunked reads in a thread.

It relies on the cycle's fields (`transport`, `flow`, `keep_alive`, `expected_content_length`,
`chunked_encoding`, `response_started`, `response_complete`, `disconnected`, `message_event`,
`on_response`): tests/unit/test_pathsend.py checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

PATHSEND = "http.response.pathsend"
FILE_METHODS = frozenset({"GET", "HEAD"})
CHUNK = 64 * 1024  # the fallback's read size, as Starlette's FileResponse
_base_send = RequestResponseCycle.send


class PathsendCycle(RequestResponseCycle):
    """A request cycle whose `send` also takes `{"type": "http.response.pathsend", "path": ...}`."""

    async def send(self, message: Any) -> None:
        if message["type"] != PATHSEND:
            await _base_send(self, message)
            return
        if not self.response_started or self.response_complete:
            raise RuntimeError("'http.response.pathsend' must follow 'http.response.start' and end the answer.")
        if self.disconnected:
            return
        sock = None if self.chunked_encoding or self.scope["method"] == "HEAD" else _socket_fd(self.transport)
        if sock is None:
            await _send_chunks(self, message["path"])
            return
        if await _send_file(self, message["path"], sock):
            self.expected_content_length = 0
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()
        else:  # the client went away (or the file is shorter than it was): nothing more can be said
            self.disconnected = True
            self.message_event.set()
            self.transport.close()


def _socket_fd(transport: Any) -> int | None:
    """The plain TCP socket's descriptor, or None where sendfile cannot be used (TLS, no socket)."""
    if not hasattr(transport, "get_write_buffer_size"):
        return None  # e.g. the lingering wrapper of an answer given before its request body was read
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    fileno = getattr(sock, "fileno", None)
    fd = fileno() if fileno is not None else -1
    return fd if isinstance(fd, int) and fd >= 0 else None


async def _send_chunks(cycle: RequestResponseCycle, path: str) -> None:
    """The fallback: what Starlette's FileResponse does without pathsend (reads off the loop)."""
    if cycle.scope["method"] == "HEAD":
        await _base_send(cycle, {"type": "http.response.body", "body": b"", "more_body": False})
        return
    file = await asyncio.to_thread(open, path, "rb")
    try:
        more = True
        while more:
            chunk = await asyncio.to_thread(file.read, CHUNK)
            more = len(chunk) == CHUNK
            await _base_send(cycle, {"type": "http.response.body", "body": chunk, "more_body": more})
    finally:
        file.close()


async def _send_file(cycle: RequestResponseCycle, path: str, sock: int) -> bool:
    """Send the answer's Content-Length bytes of `path` with sendfile; False if the client went away."""
    count = cycle.expected_content_length
    # Opening a file the route has just stat'ed touches no disk; nginx opens on its event loop too.
    file = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    out = -1
    try:
        out = os.dup(sock)
        cycle.flow.pause_reading()
        return await _copy(cycle.transport, file, out, count)
    finally:
        os.close(file)
        if out >= 0:
            os.close(out)


async def _copy(transport: Any, file: int, out: int, count: int) -> bool:
    loop = asyncio.get_running_loop()
    offset = 0
    while offset < count:
        if transport.is_closing():
            return False
        if transport.get_write_buffer_size() == 0:  # the head (or an earlier write) has left first
            try:
                sent = os.sendfile(out, file, offset, count - offset)
            except BlockingIOError:
                sent = -1
            except OSError:  # EPIPE, ECONNRESET: the client closed
                return False
            if sent == 0:
                return False  # the file is shorter than the Content-Length sent
            if sent > 0:
                offset += sent
                continue
        await _writable(loop, out)
    return True


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        with contextlib.suppress(Exception):  # uvloop may have closed the poll on a socket error already
            loop.remove_writer(fd)

"""A TCP server on a free loopback port, on the running event loop, for the tests of the upstream pool
and client: subclasses answer each connection in `serve`."""

from __future__ import annotations

import asyncio
import ssl
from typing import Self


class LoopbackServer:
    """Started and stopped with `async with`. At the end its handlers still running (a stalled answer, a
    connection the client keeps open) are cancelled and awaited, so none is left pending for the loop's
    shutdown to cancel, which Python 3.11 logs as an "Exception in callback" traceback."""

    tls: ssl.SSLContext | None = None

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._run, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self.serve(reader, writer)
        except asyncio.CancelledError:
            writer.close()  # the test is over: the handler ends as a plain return
        finally:
            self._handlers.discard(task)

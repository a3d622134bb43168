"""A loopback image server for the image-URL tests: real images, lies, giants, trickles and redirects.

It runs an aiohttp server on its own event loop in a thread, so the synchronous OpenAI client can be
used against the gateway while it serves. It records what it was asked for and how many requests it
served at once."""

from __future__ import annotations

import asyncio
import ssl
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.servers import free_port


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


class ImageServer:
    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.scheme = "https" if context else "http"
        self.context = context
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.huge = 0  # bytes a huge answer holds

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        fixed = {
            "/cat.png": (PNG, "image/png"),
            "/cat.jpg": (JPEG, "image/jpeg; charset=binary"),
            "/cat.webp": (WEBP, "application/octet-stream"),
            "/cat.gif-labelled-png": (GIF, "image/png"),
            "/notes.txt-labelled-png": (b"these are not the pixels you are looking for\n" * 4, "image/png"),
            "/page.html": (b"<!doctype html><title>cat</title>", "text/html; charset=utf-8"),
        }
        for path, (body, kind) in fixed.items():
            app.router.add_get(path, _fixed(body, kind))
        app.router.add_get("/huge.png", self._huge)
        app.router.add_get("/huge-declared.png", _declared_huge)
        app.router.add_get("/trickle.png", _trickle)
        app.router.add_get("/slow.png", self._slow)
        app.router.add_get("/missing.png", _missing)
        app.router.add_get("/hop/{n}", self._hop)
        app.router.add_get("/loop", _loop)
        app.router.add_get("/to", _redirect_to)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: web.Handler) -> web.StreamResponse:
        self.paths.append(request.path)
        self.headers.append(dict(request.headers))
        return await handler(request)

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """A PNG far over the cap, chunked (no length up front); counts what it managed to send."""
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        await response.write(PNG[:16])
        try:
            for _ in range(400):  # 400 x 64 KiB = 25 MiB
                await response.write(bytes(65536))
                self.huge += 65536
        except (ConnectionError, RuntimeError):
            return response
        await response.write_eof()
        return response

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        """A PNG after a delay; counts how many are being answered at once."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(float(request.query.get("delay", "0.5")))
        finally:
            self.in_flight -= 1
        return web.Response(body=PNG, headers={"Content-Type": "image/png"})

    async def _hop(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hop/{n - 1}" if n > 1 else "/cat.png")


def _fixed(body: bytes, kind: str) -> web.Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": kind})

    return handler


async def _declared_huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "image/png", "Content-Length": str(50 * 1024 * 1024)})
    await response.prepare(request)
    try:
        await response.write(PNG[:16])
        await asyncio.sleep(30)
    except (ConnectionError, RuntimeError):
        pass
    return response


async def _trickle(request: web.Request) -> web.StreamResponse:
    """A valid PNG start, then a byte every 0.2 s for a minute."""
    response = web.StreamResponse(headers={"Content-Type": "image/png"})
    await response.prepare(request)
    try:
        await response.write(PNG[:16])
        for _ in range(300):
            await asyncio.sleep(0.2)
            await response.write(b"\x00")
    except (ConnectionError, RuntimeError):
        pass
    return response


async def _missing(request: web.Request) -> web.StreamResponse:
    return web.Response(status=404, text="no such picture")


async def _loop(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/loop")


async def _redirect_to(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(request.query["url"])


@contextmanager
def serving(context: ssl.SSLContext | None = None) -> Iterator[ImageServer]:
    server = ImageServer(context)
    app = server._app()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)  # then trickles still running are cut
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", server.port, ssl_context=context).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(_stop(runner), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _stop(runner: web.AppRunner) -> None:
    """The runner's shutdown, then whatever handler it cut (a trickle past shutdown_timeout) run to its end:
    a loop closed on a task still pending destroys it mid-flight (asyncio logs "Task was destroyed")."""
    await runner.cleanup()
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)

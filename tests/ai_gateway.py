"""A loopback stand-in for Cloudflare AI Gateway: it records each request's path and headers, and forwards
`/v1/{account}/{gateway}/workers-ai/{rest}` to the Workers AI emulator's `/accounts/{account}/ai/{rest}`,
streams included, adding `cf-aig-cache-status` as AI Gateway does. `answer` replaces forwarding with a
canned answer (AI Gateway's own errors).

It runs an aiohttp server on its own event loop in a thread (as `tests/imageserver.py` does), so the
synchronous OpenAI client can be used against the gateway while it serves."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from tests.servers import free_port

FORWARDED = ("authorization", "content-type", "accept")


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]  # lower-case names


class AIGatewayStandIn:
    def __init__(self, api_base: str) -> None:
        self.api_base = api_base  # the emulator's `.../client/v4`
        self.port = free_port()
        self.seen: list[Seen] = []
        self.answer: tuple[int, str, bytes] | None = None  # status, content type, body
        self._session: aiohttp.ClientSession | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        self.seen.clear()
        self.answer = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/{account}/{gateway}/workers-ai/{rest:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.raw_path, {k.lower(): v for k, v in request.headers.items()}))
        body = await request.read()
        if self.answer is not None:
            status, kind, canned = self.answer
            return web.Response(status=status, body=canned, content_type=kind)
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        account, rest = request.match_info["account"], request.match_info["rest"]
        headers = {name: value for name, value in request.headers.items() if name.lower() in FORWARDED}
        headers["Accept-Encoding"] = "identity"
        url = f"{self.api_base}/accounts/{account}/ai/{rest}"
        async with self._session.request(request.method, url, data=body, headers=headers) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                headers={"Content-Type": upstream.headers.get("Content-Type", ""), "cf-aig-cache-status": "MISS"},
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@contextmanager
def serving(api_base: str) -> Iterator[AIGatewayStandIn]:
    server = AIGatewayStandIn(api_base)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(server._app(), access_log=None, shutdown_timeout=2)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", server.port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(_stop(server, runner), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _stop(server: AIGatewayStandIn, runner: web.AppRunner) -> None:
    await runner.cleanup()
    await server.close()

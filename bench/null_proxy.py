"""The floor under the gateway's streaming figures: a pass-through proxy made of the gateway's own parts.

It is the gateway with the gateway taken out: the same server stack, started the same way (uvicorn with
uvloop and httptools, no access log, no Server header, no proxy-headers rewrite), and the same upstream
client (`app.upstream.connection_pool.ConnectionPool`), forwarding the Workers AI run request as it came and the
answer's bytes as they arrive. No parsing, validation or conversion.

The bench runs it on the gateway's core and times streams through it in the same interleaved rounds as
the direct and gateway sides. What it adds over direct is what the layout costs before the gateway does
any work of its own: two more loopback hops, each waking a core that was idle (on a VM, a wake-up across
cores is tens of microseconds), one HTTP server and one HTTP client. The gateway's TTFT overhead minus
this one is the gateway's own share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from app.cli import gateway_config
from app.config import Settings
from app.middleware import read_body
from app.upstream.connection_pool import ConnectionPool, StreamingResponse

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
PREFIX = "/client/v4"
_FORWARDED = frozenset({b"authorization", b"content-type"})


class NullProxy:
    """Forwards `POST /client/v4/...` to the same path upstream; the answer streams back unchanged. Any
    other method answers 200 (the bench's health check)."""

    def __init__(self, upstream_base: str) -> None:
        self.upstream_base = upstream_base
        self.pool: ConnectionPool | None = None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["method"] != "POST":  # GET /health, for the bench's start-up check
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = await read_body(receive, sys.maxsize)  # the gateway's own reader, with no limit
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in _FORWARDED
        }
        assert self.pool is not None
        path = scope["path"].removeprefix(PREFIX)
        answer = await self.pool.stream("POST", path, headers, body, timeout=60, read_timeout=60)
        try:
            await _relay(answer, send)
        finally:
            await answer.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = ConnectionPool(self.upstream_base)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _relay(answer: StreamingResponse, send: Send) -> None:
    """An event stream piece by piece as it arrives; any other answer whole, with its length (as the
    gateway sends a JSON answer: one head, one body)."""
    headers = [(b"content-type", answer.headers.get("content-type", "application/octet-stream").encode("latin-1"))]
    if answer.content_type != "text/event-stream":
        body = await answer.read()
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    while (data := await answer.read_some()) is not None:
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def config(host: str, port: int, upstream: str) -> uvicorn.Config:
    """Served as the gateway is: `app.cli.gateway_config` (uvloop, httptools, no access log or Server
    header, no proxy-headers rewrite)."""
    settings = Settings(host=host, port=port, log_level="warning", access_log=False)
    return gateway_config(NullProxy(upstream + PREFIX), settings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.null_proxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the fake upstream's base URL, e.g. http://127.0.0.1:8788")
    args = parser.parse_args(argv)
    uvicorn.Server(config(args.host, args.port, args.upstream)).run()


if __name__ == "__main__":
    main()

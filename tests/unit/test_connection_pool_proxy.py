"""The pool's proxy failures against loopback stand-ins (real proxies: tests/e2e/test_proxies.py): each is
a 502 naming the proxy by its masked URL, bounded by the connect timeout, and the slot comes back."""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop

from app.errors import GatewayError
from app.proxies import parse_proxy
from app.upstream.client import Credentials, WorkersAI
from tests.servers import free_port

CREDS = Credentials("acct", "token")
SECRET = "hunter2"


async def fails_through(proxy_url: str, *, connect_timeout: float = 5.0) -> GatewayError:
    upstream = WorkersAI(
        "https://api.cloudflare.com/client/v4", connect_timeout=connect_timeout, proxy=parse_proxy(proxy_url)
    )
    await upstream.start()
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        await upstream.run(CREDS, "@cf/meta/llama-3.1-8b-instruct-fast", {"prompt": "hi"})
    assert time.monotonic() - started < connect_timeout + 3
    assert upstream.pool.counters == {"open": 0, "idle": 0, "busy": 0, "waiting": 0}
    await upstream.close()
    assert SECRET not in caught.value.message
    return caught.value


def test_a_proxy_that_refuses_the_tunnel() -> None:
    async def forbid(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(forbid, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        error = await fails_through(f"http://gw:{SECRET}@127.0.0.1:{port}")
        server.close()
        assert error.status_code == 502 and error.code == "upstream_proxy_error"
        assert error.message == (
            f"Could not reach Workers AI: the proxy http://***@127.0.0.1:{port} refused the tunnel (HTTP 403)."
        )

    uvloop.run(main())


def test_a_proxy_that_never_answers_is_bounded_by_the_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the SOCKS greeting, answers nothing, until the client gives up
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        error = await fails_through(f"socks5h://gw:{SECRET}@127.0.0.1:{port}", connect_timeout=0.5)
        server.close()
        await server.wait_closed()
        assert error.status_code == 502
        assert f"no connection through the proxy socks5h://***@127.0.0.1:{port} in time" in error.message

    uvloop.run(main())


def test_a_proxy_that_is_not_listening() -> None:
    port = free_port()
    error = uvloop.run(fails_through(f"http://127.0.0.1:{port}"))
    assert error.message == f"Could not reach Workers AI: the proxy http://127.0.0.1:{port} could not be reached."


def test_https_proxies_are_refused_at_start() -> None:
    async def main() -> None:
        upstream = WorkersAI("https://api.cloudflare.com/client/v4", proxy=parse_proxy(f"https://u:{SECRET}@p:443"))
        with pytest.raises(ValueError, match=r"https://\*\*\*@p:443") as caught:
            await upstream.start()
        assert SECRET not in str(caught.value)

    uvloop.run(main())

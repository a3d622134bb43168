"""`http.response.pathsend` on GatewayProtocol: offered on GET and HEAD only, sent with sendfile on a real
socket (under uvloop, as served, and asyncio's own loop), chunked reads where there is no socket."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.server import ServerState

from app.pathsend import PATHSEND, PathsendCycle
from app.server import GatewayProtocol
from tests.unit.test_server import LIMITS, connect

Scope = dict[str, Any]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def file_app(path: Path, seen: list[Scope]) -> Callable[[Scope, Any, Any], Coroutine[Any, Any, None]]:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope)
        size = path.stat().st_size
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % size)]})
        if PATHSEND in scope.get("extensions", {}):
            await send({"type": PATHSEND, "path": str(path)})
        else:
            await send({"type": "http.response.body", "body": path.read_bytes()})

    return app


def test_relies_on_these_cycle_fields() -> None:
    fields = set(RequestResponseCycle.__init__.__code__.co_names)
    for name in ("transport", "flow", "keep_alive", "expected_content_length", "chunked_encoding", "disconnected"):
        assert name in fields, name
    assert {"response_started", "response_complete", "message_event", "on_response"} <= fields


def test_only_get_and_head_are_offered_pathsend(tmp_path: Path) -> None:
    path = tmp_path / "f.png"
    path.write_bytes(b"x" * 10)
    asyncio.run(offered(path))


async def offered(path: Path) -> None:
    seen: list[Scope] = []
    protocol, transport = connect(file_app(path, seen))
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert type(protocol.cycle) is RequestResponseCycle  # the chat path's cycle is uvicorn's own
    await asyncio.sleep(0.01)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert isinstance(protocol.cycle, PathsendCycle)
    await asyncio.sleep(0.05)
    assert "extensions" not in seen[0] and PATHSEND in seen[1]["extensions"]
    # This transport has no socket: the file was sent in chunked reads, whole, and the connection kept.
    assert transport.written.count(b"\r\n\r\n" + b"x" * 10) == 2 and not transport.closed


def serve_once(loop_factory: LoopFactory, path: Path, request: bytes) -> bytes:
    """One connection of GatewayProtocol on a real socket pair; what the client read until EOF."""

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        app = file_app(path, [])
        config = uvicorn.Config(app, http=GatewayProtocol.with_limits(LIMITS), ws="none", lifespan="off")
        config.load()
        server, client = socket.socketpair()
        protocol = config.http_protocol_class(config=config, server_state=ServerState(), app_state={}, _loop=loop)  # type: ignore[call-arg]
        await loop.connect_accepted_socket(lambda: protocol, server)
        client.setblocking(False)
        await loop.sock_sendall(client, request)
        received = b""
        while chunk := await asyncio.wait_for(loop.sock_recv(client, 1 << 20), 10):
            received += chunk
        client.close()
        return received

    loop = loop_factory()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.parametrize("loop_factory", [uvloop.new_event_loop, asyncio.new_event_loop], ids=["uvloop", "asyncio"])
@pytest.mark.parametrize("size", [0, 5, 4 * 1024 * 1024 + 3])
def test_sendfile_on_a_real_socket(
    tmp_path: Path, loop_factory: Callable[[], asyncio.AbstractEventLoop], size: int
) -> None:
    path = tmp_path / "f.png"
    data = os.urandom(size)
    path.write_bytes(data)
    two = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    received = serve_once(loop_factory, path, two)  # pipelined: the second waits for the first's file
    first, _, rest = received.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 ") and rest[:size] == data
    second, _, body = rest[size:].partition(b"\r\n\r\n")
    assert second.startswith(b"HTTP/1.1 200 ") and b"connection: close" in second and body == data

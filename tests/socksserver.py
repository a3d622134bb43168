"""A minimal SOCKS5 proxy (no auth, CONNECT only) on loopback for the image-URL tests. It records the
destination each client asked for, as sent: a name (socks5h) or an address (socks5)."""

from __future__ import annotations

import asyncio
import ipaddress
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.servers import free_port


class SocksServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.asked: list[str] = []  # "host:port" as each client sent it
        self.open: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open.add(writer)
        try:
            await self._relay(reader, writer)
        finally:
            self.open.discard(writer)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, count = await reader.readexactly(2)
            await reader.readexactly(count)
            writer.write(b"\x05\x00")  # no authentication
            *_, kind = await reader.readexactly(4)  # version, CONNECT, reserved, address type
            if kind == 3:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            else:
                host = str(ipaddress.ip_address(await reader.readexactly(4 if kind == 1 else 16)))
            (port,) = struct.unpack(">H", await reader.readexactly(2))
            self.asked.append(f"{host}:{port}")
            # The test servers listen on IPv4 only: the IPv6 loopback a name may resolve to leads there too.
            target = "127.0.0.1" if host == "::1" else host
            upstream_reader, upstream_writer = await asyncio.open_connection(target, port)
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            return
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextmanager
def socks_serving() -> Iterator[SocksServer]:
    proxy = SocksServer()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(proxy._serve, "127.0.0.1", proxy.port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:

        async def stop() -> None:
            server.close()
            for writer in list(proxy.open):
                writer.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

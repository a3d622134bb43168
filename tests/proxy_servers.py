"""Outbound proxies and a TLS stand-in for Cloudflare, on loopback ports, for the proxy tests: Debian's
tinyproxy (HTTP CONNECT, optionally with basic auth), microsocks (SOCKS5), and a TLS-terminating relay in
front of the emulator whose certificate comes from a throwaway CA (trustme)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.servers import free_port, stop
from tests.tools import require


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def daemon(args: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield
    finally:
        stop(process)


@dataclass(frozen=True)
class Tinyproxy:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []


@contextmanager
def tinyproxy(
    auth: tuple[str, str] | None = None, *, via: bool = False, log_level: str = "Connect"
) -> Iterator[Tinyproxy]:
    """tinyproxy in the foreground on a free port, its log at `log_level` (Connect: one line a CONNECT;
    Info: every request too); `via` adds the Via header to what it forwards."""
    binary = require("tinyproxy")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="wag-tinyproxy-"))
    log = workdir / "tinyproxy.log"
    lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 60", f'LogFile "{log}"', f"LogLevel {log_level}"]
    lines += ["MaxClients 50", "Allow 127.0.0.1", f"DisableViaHeader {'No' if via else 'Yes'}"]
    if auth is not None:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    config = workdir / "tinyproxy.conf"
    config.write_text("\n".join(lines) + "\n")
    with daemon([binary, "-d", "-c", str(config)], port):
        yield Tinyproxy(port, log)
    shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def microsocks(auth: tuple[str, str] | None = None) -> Iterator[int]:
    binary = require("microsocks")
    port = free_port()
    args = [binary, "-i", "127.0.0.1", "-p", str(port)]
    if auth is not None:
        args += ["-u", auth[0], "-P", auth[1]]
    with daemon(args, port):
        yield port


class Relay:
    """A TCP server on its own thread and event loop, in front of the emulator (`backend_port`), for a test
    that needs to stand between the gateway and Workers AI; `_relay` is what it does with a connection."""

    host = "127.0.0.1"

    def __init__(self, backend_port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.backend_port = backend_port
        self._context = ssl_context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        async def start() -> None:
            self._server = await asyncio.start_server(self._relay, self.host, self.port, ssl=self._context)
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class TlsFront(Relay):
    """Cloudflare's stand-in: TLS on `localhost:<port>` (a certificate for `localhost` from `ca`), each
    connection relayed as plain TCP to the emulator. Counts the TLS handshakes that succeeded."""

    host = "localhost"

    def __init__(self, ca: trustme.CA, backend_port: int) -> None:
        self.handshakes = 0
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        super().__init__(backend_port, context)

    @property
    def api_base(self) -> str:
        return f"https://localhost:{self.port}/client/v4"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        try:
            back_reader, back_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, back_writer), pipe(back_reader, writer))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies `reader` to `writer` until either side ends, then closes `writer`."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError, ssl.SSLError):
        pass
    finally:
        writer.close()

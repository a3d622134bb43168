"""The upstream connection pool against a scripted HTTP server on a loopback port: what reaches the
socket, how answers are framed and decoded, when connections are reused, limits and timeouts."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.upstream.connection_pool import ConnectionPool
from tests.loopback import LoopbackServer
from tests.tools import require

Reply = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


class Scripted(LoopbackServer):
    """A loopback server: reads each request (head and Content-Length body) and lets `reply` answer it.
    `reply` returns False to close the connection afterwards. Counts connections and requests."""

    def __init__(self, reply: Reply, *, tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.reply = reply
        self.tls = tls
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self.requests: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.reply(request, reader, writer):
                    return
        finally:
            self.open_now -= 1
            writer.close()


def answer(body: bytes, *, status: str = "200 OK", headers: str = "Content-Type: application/json\r\n") -> Reply:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        return True

    return reply


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


def test_requests_reuse_one_keep_alive_connection_and_send_exact_bytes() -> None:
    async def main() -> None:
        async with Scripted(answer(b'{"ok":true}')) as server:
            pool = ConnectionPool(server.url)
            for _ in range(3):
                response = await pool.request(
                    "POST", "/accounts/a/ai/run/@cf/x/y", {"Authorization": "Bearer t"}, b"{}", timeout=5
                )
                assert (response.status, response.content_type, response.body) == (
                    200,
                    "application/json",
                    b'{"ok":true}',
                )
            await pool.close()
        assert server.connections == 1
        assert (
            server.requests[0]
            == (
                f"POST /client/v4/accounts/a/ai/run/@cf/x/y HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "User-Agent: workers-ai-gateway\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}"
            ).encode()
        )

    run(main())


def test_chunked_gzip_answer_is_decoded() -> None:
    payload = b'{"result":{"data":[' + b"0.123456789," * 5000 + b'1]},"success":true}'
    packed = gzip.compress(payload)

    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        for at in range(0, len(packed), 700):
            part = packed[at : at + 700]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    async def main() -> None:
        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url)
            response = await pool.request("GET", "/x", {}, timeout=5)
            assert response.body == payload
            assert (await pool.request("GET", "/x", {}, timeout=5)).body == payload
            await pool.close()
        assert server.connections == 1

    run(main())


def test_body_delimited_by_close_is_read_whole_and_connection_not_reused() -> None:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n" + b"\x89PNG" * 1000)
        await writer.drain()
        return False

    async def main() -> None:
        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url)
            for _ in range(2):
                response = await pool.request("POST", "/x", {}, b"{}", timeout=5)
                assert response.content_type == "image/png" and response.body == b"\x89PNG" * 1000
            await pool.close()
        assert server.connections == 2

    run(main())


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await answer(b"{}")(request, reader, writer)
        return False  # keep-alive announced, yet the server hangs up

    async def main() -> None:
        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url)
            assert (await pool.request("POST", "/x", {}, b"{}", timeout=5)).status == 200
            await asyncio.sleep(0.05)  # the FIN arrives while the connection sits in the pool
            assert (await pool.request("POST", "/x", {}, b"{}", timeout=5)).status == 200
            await pool.close()
        assert server.connections == 2

    run(main())


def test_pool_never_opens_more_than_max_connections_and_serves_every_caller() -> None:
    async def slow(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.02)
        return await answer(b"{}")(request, reader, writer)

    async def main() -> None:
        async with Scripted(slow) as server:
            pool = ConnectionPool(server.url, max_connections=2)
            answers = await asyncio.gather(*(pool.request("POST", "/x", {}, b"{}", timeout=5) for _ in range(9)))
            assert [a.status for a in answers] == [200] * 9
            await pool.close()
        assert server.most_open == 2 and server.connections == 2

    run(main())


def test_total_timeout_raises_and_frees_the_slot() -> None:
    async def never(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if b"/slow" in request:
            await asyncio.sleep(10)
        return await answer(b"{}")(request, reader, writer)

    async def main() -> None:
        async with Scripted(never) as server:
            pool = ConnectionPool(server.url, max_connections=1)
            with pytest.raises(TimeoutError):
                await pool.request("POST", "/slow", {}, b"{}", timeout=0.1)
            assert (await pool.request("POST", "/fast", {}, b"{}", timeout=5)).status == 200
            await pool.close()
        assert server.connections == 2  # the timed-out connection was not reused

    run(main())


def test_a_cancelled_request_does_not_leave_its_connection_in_the_pool() -> None:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.2 if b"/slow" in request else 0)
        return await answer(b'{"n":1}')(request, reader, writer)

    async def main() -> None:
        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url, max_connections=1)
            task = asyncio.create_task(pool.request("POST", "/slow", {}, b"{}", timeout=5))
            await asyncio.sleep(0.05)
            task.cancel()
            # Had the connection gone back to the pool, this request would read the late answer to /slow.
            response = await pool.request("POST", "/fast", {}, b"{}", timeout=5)
            assert response.body == b'{"n":1}'
            await pool.close()
        assert server.connections == 2

    run(main())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "malformed HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "closed before the response ended"),
    ],
)
def test_broken_answers_raise_connection_error(raw: bytes, message: str) -> None:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return False

    async def main() -> None:
        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url)
            with pytest.raises(ConnectionError, match=message):
                await pool.request("POST", "/x", {}, b"{}", timeout=5)
            await pool.close()

    run(main())


def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    async def main() -> None:
        async with Scripted(answer(b"{}")) as server:
            pool = ConnectionPool(server.url)
            with pytest.raises(ValueError):
                await pool.request("POST", "/x", {"Authorization": "Bearer t\r\nX-Evil: 1"}, b"{}", timeout=5)
            assert (await pool.request("POST", "/x", {}, b"{}", timeout=5)).status == 200
            await pool.close()
        assert len(server.requests) == 1 and b"X-Evil" not in server.requests[0]

    run(main())


def sse_reply(events: int, *, stall_after: int | None = None, size: int = 20) -> Reply:
    async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        for n in range(events):
            if n == stall_after:
                await asyncio.sleep(10)
            frame = b"data: " + str(n).encode().rjust(size, b"0") + b"\n\n"
            writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    return reply


def test_meanwhile_runs_once_the_request_is_sent_and_before_the_answer() -> None:
    """The caller's set-up runs while the upstream works: this server answers only after it ran, so a
    pool that called it after the answer (or never) would time out here."""

    async def main() -> None:
        ran = asyncio.Event()
        calls: list[int] = []
        inner = sse_reply(3)

        async def reply(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
            await ran.wait()
            return await inner(request, reader, writer)

        async with Scripted(reply) as server:
            pool = ConnectionPool(server.url)

            def meanwhile() -> None:
                calls.append(len(server.requests))
                ran.set()

            response = await pool.stream("POST", "/x", {}, b"{}", timeout=2, read_timeout=2, meanwhile=meanwhile)
            assert len((await response.read()).split(b"\n\n")) == 3 + 1
            await pool.close()
        assert calls == [0]  # once; the server had not even read the request yet when it ran

    asyncio.run(main())


def test_stream_yields_the_whole_body_to_a_slow_reader_and_reuses_the_connection() -> None:
    async def main() -> None:
        async with Scripted(sse_reply(400, size=2000)) as server:
            pool = ConnectionPool(server.url)
            response = await pool.stream("POST", "/x", {}, b"{}", timeout=5, read_timeout=5)
            assert response.status == 200 and response.content_type == "text/event-stream"
            body = b""
            async for chunk in response:
                body += chunk
                await asyncio.sleep(0.001)
            frames = body.split(b"\n\n")[:-1]
            assert [int(frame[6:]) for frame in frames] == list(range(400))
            again = await pool.stream("POST", "/x", {}, b"{}", timeout=5, read_timeout=5)
            assert len(await again.read()) == len(body)
            await pool.close()
        assert server.connections == 1

    run(main())


def test_stream_read_timeout_fires_when_the_upstream_goes_quiet() -> None:
    async def main() -> None:
        async with Scripted(sse_reply(5, stall_after=2)) as server:
            pool = ConnectionPool(server.url)
            response = await pool.stream("POST", "/x", {}, b"{}", timeout=5, read_timeout=0.2)
            seen = b""
            with pytest.raises(TimeoutError):
                async for chunk in response:
                    seen += chunk
            await response.aclose()
            assert seen.count(b"data: ") == 2
            await pool.close()

    run(main())


def test_a_stream_closed_early_drops_its_connection() -> None:
    async def main() -> None:
        async with Scripted(sse_reply(50)) as server:
            pool = ConnectionPool(server.url)
            response = await pool.stream("POST", "/x", {}, b"{}", timeout=5, read_timeout=5)
            async for _ in response:
                break
            await response.aclose()
            assert len(await (await pool.stream("POST", "/x", {}, b"{}", timeout=5, read_timeout=5)).read()) > 0
            await pool.close()
        assert server.connections == 2

    run(main())


def test_unreachable_origin_raises_os_error() -> None:
    async def main() -> None:
        async with Scripted(answer(b"{}")) as server:
            url = server.url
        pool = ConnectionPool(url)  # the server is gone: nothing listens on its port
        with pytest.raises(OSError):
            await pool.request("POST", "/x", {}, b"{}", timeout=5)
        await pool.close()

    run(main())


def test_https_origin_is_verified_and_spoken_to_over_tls(tmp_path: Path) -> None:
    """Workers AI is HTTPS: the pool speaks TLS, checks the certificate against the trust store and the
    host name, and refuses a certificate it cannot verify."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = [require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    request += ["-subj", "/CN=localhost"]
    names = ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)]
    subprocess.run([*request, *names], check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def main() -> None:
        async with Scripted(answer(b'{"tls":true}'), tls=server_tls) as server:
            url = f"https://localhost:{server.port}/client/v4"
            pool = ConnectionPool(url, tls=trusting)
            assert (await pool.request("POST", "/x", {}, b"{}", timeout=5)).body == b'{"tls":true}'
            assert b"Host: localhost:%d" % server.port in server.requests[0]
            await pool.close()
            strict = ConnectionPool(url)  # the system store does not know this self-signed certificate
            with pytest.raises(ssl.SSLCertVerificationError):
                await strict.request("POST", "/x", {}, b"{}", timeout=5)
            await strict.close()

    run(main())

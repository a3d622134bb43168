"""Hostile and unlucky clients at the HTTP level: raw sockets against the real gateway process.

The gateway here runs with short limits (2 s timeouts, a 16 KiB head) so the timing tests are quick; the
margins are wide because the machine running them may be loaded several times over.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.servers import Emulator, gateway, managed_env

TIMEOUT = 2.0
MAX_HEAD = 16 * 1024
MAX_BODY = 2_000_000
AUTH = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
JSON_ERROR = re.compile(rb"^HTTP/1\.1 (\d{3}) [^\r\n]*\r\n(.*?)\r\n\r\n(.*)$", re.S)


@pytest.fixture(scope="module")
def served(upstream: Emulator) -> Iterator[tuple[int, Path]]:
    env = managed_env(
        upstream.api_base,
        LOG_LEVEL="info",
        MAX_BODY_BYTES=str(MAX_BODY),
        HEADER_TIMEOUT=str(TIMEOUT),
        BODY_TIMEOUT=str(TIMEOUT),
        KEEPALIVE_TIMEOUT=str(TIMEOUT),
        MAX_HEADER_BYTES=str(MAX_HEAD),
    )
    with gateway(env) as (url, log):
        yield int(url.rsplit(":", 1)[1]), log


@pytest.fixture
def port(served: tuple[int, Path]) -> int:
    return served[0]


def connect(port: int, timeout: float = 30) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after the answer counts as the end)."""
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def exchange(port: int, data: bytes) -> bytes:
    with connect(port) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def parse_error(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and the OpenAI error of one whole answer; asserts the error's shape."""
    match = JSON_ERROR.match(raw)
    assert match, raw[:300]
    head = dict(line.split(": ", 1) for line in match[2].decode().split("\r\n"))
    assert head["content-type"] == "application/json" and head["connection"] == "close"
    assert int(head["content-length"]) == len(match[3])
    payload = json.loads(match[3])
    assert set(payload) == {"error"} and set(payload["error"]) == {"message", "type", "param", "code"}
    return int(match[1]), head, payload["error"]


def health_ok(port: int, within: float = 3.0) -> bool:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=within)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200 and time.monotonic() - started < within
    finally:
        connection.close()


# Row 1: an early answer (413) reaches the client whatever the framing, Connection: close included.


def post_with_http_client(port: int, path: str, body: bytes | Iterator[bytes], chunked: bool) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body, {**AUTH, "Connection": "close"}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def pieces(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.parametrize(
    ("path", "chunked", "status", "code"),
    [
        ("/v1/chat/completions", False, 413, "request_too_large"),  # the fast lane, by Content-Length
        ("/v1/chat/completions", True, 413, "request_too_large"),  # the fast lane, as the body arrives
        ("/v1/models", False, 413, "request_too_large"),  # a FastAPI route, by Content-Length
        ("/v1/models", True, 405, "method_not_allowed"),  # a FastAPI route answering before it reads
    ],
    ids=["fastlane-length", "fastlane-chunked", "fastapi-length", "fastapi-chunked"],
)
def test_30_mb_body_with_connection_close_gets_the_answer(
    port: int, path: str, chunked: bool, status: int, code: str
) -> None:
    body: bytes | Iterator[bytes] = b"x" * 30_000_000
    for _ in range(3):
        got, raw = post_with_http_client(port, path, pieces(30 << 20) if chunked else body, chunked)
        assert (got, json.loads(raw)["error"]["code"]) == (status, code)


def test_raw_chunked_30_mb_body_gets_the_413(port: int) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"
    for _ in range(3):
        with connect(port) as sock:
            sock.sendall(head + chunk * 30 + b"0\r\n\r\n")
            status, _, error = parse_error(read_to_end(sock))
        assert (status, error["code"]) == (413, "request_too_large")


def test_drain_after_an_early_answer_is_bounded(port: int) -> None:
    """A client that never stops sending is cut off after a bounded amount (64 MiB here), not read forever."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n"
    sent = 0
    with connect(port) as sock:
        sock.sendall(head)
        block = b"x" * (1 << 20)
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            while sent < 1 << 30:
                sock.sendall(block)
                sent += len(block)
    assert 60 << 20 < sent < 200 << 20
    assert health_ok(port)


# Row 4: a body that stops arriving.


def test_body_that_stops_arriving_gets_a_408_and_a_close(port: int) -> None:
    short = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1002\r\n\r\n{}"
    unended = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"
    results: list[tuple[bytes, float]] = []

    def one(data: bytes) -> None:
        started = time.monotonic()
        raw = exchange(port, data)
        results.append((raw, time.monotonic() - started))

    threads = [threading.Thread(target=one, args=(data,)) for data in (short, unended) * 4]
    for thread in threads:
        thread.start()
    assert health_ok(port)  # the others wait; the gateway does not
    for thread in threads:
        thread.join(60)
    assert len(results) == 8
    for raw, elapsed in results:
        status, _, error = parse_error(raw)  # read to the server's close: the connection is closed
        assert (status, error["code"], error["type"]) == (408, "request_timeout", "invalid_request_error")
        assert TIMEOUT * 0.9 < elapsed < TIMEOUT * 2 + 10


def test_slow_body_that_keeps_coming_is_not_cut(port: int) -> None:
    """The body limit is on silence, not on the whole body: a byte every half-timeout keeps it alive."""
    body = json.dumps({"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "hi"}]})
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += f"Authorization: Bearer {TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    with connect(port) as sock:
        sock.sendall(head.encode())
        started = time.monotonic()
        data = body.encode()
        for index in range(0, len(data), len(data) // 6 + 1):
            time.sleep(TIMEOUT / 3)
            sock.sendall(data[index : index + len(data) // 6 + 1])
        assert time.monotonic() - started > TIMEOUT * 1.5
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"chat.completion"' in answer


# Row 5: heads that never end, connections that say nothing, idle keep-alive connections.


def test_slowloris_and_silent_connections_are_dropped(port: int) -> None:
    trickling = [connect(port) for _ in range(100)]
    silent = [connect(port) for _ in range(50)]
    for sock in trickling + silent:
        sock.setblocking(False)
    started = time.monotonic()
    closed_at: dict[socket.socket, float] = {}
    answers: dict[socket.socket, bytes] = {sock: b"" for sock in trickling}
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200
    health_checked = False
    while len(closed_at) < 150 and time.monotonic() - started < TIMEOUT + 30:
        second = int(time.monotonic() - started)
        for sock in trickling + silent:
            if sock in closed_at:
                continue
            try:
                if sock in answers and second < len(request) and len(answers[sock]) <= second:
                    sock.send(request[second : second + 1])  # one byte a second
                    answers[sock] += b"."
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                closed_at[sock] = time.monotonic() - started
        if not health_checked and time.monotonic() - started > 1:
            assert health_ok(port)  # during the attack
            health_checked = True
        time.sleep(0.05)
    for sock in trickling + silent:
        sock.close()
    assert len(closed_at) == 150, f"{150 - len(closed_at)} connections still open"
    assert min(closed_at.values()) > TIMEOUT * 0.9
    assert max(closed_at.values()) < TIMEOUT + 20
    assert health_ok(port)


def test_a_second_head_that_never_ends_gets_a_408(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b"}"):
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        status, _, error = parse_error(read_to_end(sock))
    assert (status, error["code"]) == (408, "request_timeout")
    assert TIMEOUT * 0.9 < time.monotonic() - started < TIMEOUT * 2 + 10


def test_idle_keep_alive_connection_is_closed(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1") == 1  # one answer, then the close
    # KEEPALIVE_TIMEOUT is 2 here; uvicorn's default (5) would fail the upper bound.
    assert TIMEOUT * 0.9 < time.monotonic() - started < 4.5


def test_pipelined_requests_are_all_answered(port: int) -> None:
    one = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = exchange(port, one * 4 + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.count(b"HTTP/1.1 200 ") == 5


# Row 6: a head over the limit.


def gateway_rss_kib(log: Path) -> int:
    pid = re.findall(r"Started server process \[(\d+)\]", log.read_text())[0]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]


@pytest.mark.parametrize(
    "head",
    [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 90) for i in range(400)),
        b"GET /health?" + b"q" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["one-large-header", "many-headers", "long-url"],
)
def test_head_over_the_limit_is_431(port: int, head: bytes) -> None:
    status, _, error = parse_error(exchange(port, head))
    assert (status, error["code"]) == (431, "request_header_fields_too_large")
    assert str(MAX_HEAD) in error["message"]


def test_head_under_the_limit_is_served(port: int) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: " + b"a" * (MAX_HEAD - 200) + b"\r\n\r\n"
    assert exchange(port, head).startswith(b"HTTP/1.1 200 ")


def test_512_mb_head_is_refused_before_it_is_buffered(served: tuple[int, Path]) -> None:
    port, log = served
    before = gateway_rss_kib(log)
    sent = 0
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        block = b"a" * (1 << 20)
        answer = b""
        try:
            while sent < 512 << 20:
                sock.sendall(block)
                sent += len(block)
        except (ConnectionResetError, BrokenPipeError):
            pass
        else:
            answer = read_to_end(sock)
        assert health_ok(port)
    assert sent < 512 << 20 or answer.startswith(b"HTTP/1.1 431 ")
    assert gateway_rss_kib(log) - before < 50 * 1024  # KiB: not hundreds of MB


# Row 11: malformed HTTP and WebSocket upgrades get OpenAI's error JSON.

CHUNKED = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
MALFORMED = {
    "garbage": b"hello\r\n\r\n",
    "bad-method": b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad-version": b"GET / HTTP/9.x\r\nHost: x\r\n\r\n",
    "space-in-url": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "control-in-url": b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "non-ascii-path": b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    "header-without-colon": b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
    "space-in-header-name": b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    "space-before-colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "nul-in-header-value": b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  b\r\n\r\n",
    "bad-content-length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "negative-content-length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "two-content-lengths": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "length-and-chunked": b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad-chunk-size": CHUNKED + b"zz\r\n{}\r\n",
    "chunk-without-crlf": CHUNKED + b"2\r\n{}XX",
    "chunked-not-last": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "tls-client-hello": bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40,
    "lf-in-request-line": b"GET / HTTP/1.1\nHost: x\r\n\r\n\x01",
    "bare-cr": b"GET / HTTP/1.1\rHost: x\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_gets_a_json_400(port: int, raw: bytes) -> None:
    status, _, error = parse_error(exchange(port, raw))
    assert (status, error["type"], error["code"]) == (400, "invalid_request_error", "invalid_http")


def test_websocket_upgrade_gets_a_json_403(port: int) -> None:
    upgrade = (
        b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    status, _, error = parse_error(exchange(port, upgrade))
    assert (status, error["code"]) == (403, "websocket_not_supported")


@pytest.mark.parametrize("mode", ["workers", "demo"])
def test_every_way_of_serving_has_the_limits(upstream: Emulator, mode: str) -> None:
    """Several worker processes (the protocol and its limits are pickled to each) and demo mode."""
    env = {"MAX_HEADER_BYTES": "4096"}
    if mode == "workers":
        env |= {"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": ACCOUNT, "CF_API_TOKEN": CF_TOKEN, "WORKERS": "2"}
    with gateway(env) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        status, _, error = parse_error(exchange(port, b"GET /health HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n"))
        assert (status, error["code"]) == (431, "request_header_fields_too_large")
        assert exchange(port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200 ")

"""Hosted files through the zero-copy path (app/pathsend.py) of the real gateway process, over loopback:
byte-identical bodies of every size, HEAD, 304 (If-None-Match, If-Modified-Since), Range, keep-alive reuse
after a sendfile answer, and a client that hangs up mid-file leaving the gateway healthy with no descriptor
leaked."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.e2e.images import fetch
from tests.http import call
from tests.servers import Emulator, gateway_process, managed_env

SIZES = [0, 1, 65_535, 65_537, 3 * 1024 * 1024 + 7]


@pytest.fixture(scope="module")
def served(upstream: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """A gateway of its own (its descriptors are counted), its pid, and its image directory."""
    data_dir = tmp_path_factory.mktemp("sendfile")
    (data_dir / "images").mkdir()
    with gateway_process(managed_env(upstream.api_base, DATA_DIR=str(data_dir))) as (url, process, _):
        yield url, process.pid, data_dir / "images"


def put(images: Path, data: bytes) -> str:
    """A stored image as the store writes it (a random name in its directory)."""
    name = f"{secrets.token_urlsafe(16)}.png"
    (images / name).write_bytes(data)
    return f"/v1/files/images/{name}"


def connection(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.parametrize("size", SIZES)
def test_a_file_comes_back_byte_identical(served: tuple[str, int, Path], size: int) -> None:
    url, _, images = served
    data = os.urandom(size)
    answer = fetch(url + put(images, data))
    assert answer.status == 200 and answer.body == data
    assert answer.headers["content-length"] == str(size) and answer.headers["content-type"] == "image/png"


def test_head_304_and_range(served: tuple[str, int, Path]) -> None:
    url, _, images = served
    data = os.urandom(200_000)
    path = put(images, data)
    conn = connection(url)
    try:
        conn.request("HEAD", path)
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b"" and head.getheader("content-length") == "200000"
        etag = head.getheader("etag")
        conn.request("GET", path, headers={"If-None-Match": str(etag)})
        cached = conn.getresponse()
        assert cached.status == 304 and cached.read() == b""
        conn.request("GET", path, headers={"Range": "bytes=100-199"})
        part = conn.getresponse()
        assert part.status == 206 and part.read() == data[100:200]
        conn.request("GET", path)  # the same connection, still in step after all three
        whole = conn.getresponse()
        assert whole.status == 200 and whole.read() == data
    finally:
        conn.close()


def test_keep_alive_reuse_after_sendfile_answers(served: tuple[str, int, Path]) -> None:
    url, _, images = served
    files = [os.urandom(size) for size in (2_000_000, 0, 70_000, 2_000_000)]
    paths = [put(images, data) for data in files]
    conn = connection(url)
    try:
        conn.request("GET", paths[0])
        conn.getresponse().read()
        first = conn.sock
        for path, data in zip(paths, files, strict=True):
            conn.request("GET", path)
            answer = conn.getresponse()
            assert answer.status == 200 and answer.read() == data
            assert answer.getheader("connection") != "close"
        assert conn.sock is first  # one TCP connection for all of them
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {TEST_KEY}"})
        models = conn.getresponse()
        assert models.status == 200 and b'"object":"list"' in models.read().replace(b" ", b"")
    finally:
        conn.close()


def test_a_client_hanging_up_mid_file_leaves_the_gateway_healthy(served: tuple[str, int, Path]) -> None:
    url, pid, images = served
    data = os.urandom(16 * 1024 * 1024)  # far more than loopback socket buffers hold
    path = put(images, data)
    assert fetch(url + path).body == data  # warm up: the first request opens what the process keeps open
    before = open_fds(pid)
    host, port = url.removeprefix("http://").split(":")
    for _ in range(5):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            received = sock.recv(4096)
            assert received.startswith(b"HTTP/1.1 200 ")
            while len(received) < 200_000:  # part of the body came: the gateway is mid-file; now hang up
                received += sock.recv(65536)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # a reset
    deadline = time.monotonic() + 20
    while open_fds(pid) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(pid) <= before  # each hang-up's socket, its duplicate and the file were closed
    assert fetch(url + path).body == data  # and the next request is served whole


def test_a_generated_image_is_served_through_sendfile(served: tuple[str, int, Path]) -> None:
    url, _, images = served
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        answer = client.images.generate(model="@cf/stabilityai/stable-diffusion-xl-base-1.0", prompt="a lighthouse")
    assert answer.data and answer.data[0].url
    name = answer.data[0].url.rsplit("/", 1)[1]
    assert fetch(answer.data[0].url).body == (images / name).read_bytes()  # exactly what was written, once


def read_calls(pid: int) -> int:
    """Read-like system calls the process made so far (a sendfile counts as one)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["syscr"])


def test_the_bytes_never_pass_through_the_process(served: tuple[str, int, Path]) -> None:
    url, pid, images = served
    data = os.urandom(8 * 1024 * 1024)
    path = put(images, data)
    before = read_calls(pid)
    assert fetch(url + path).body == data
    # Chunked reads would take 128 read() calls of 64 KiB; sendfile moves the file in a few calls.
    assert read_calls(pid) - before < 40


def test_if_modified_since_revalidates_and_if_none_match_takes_precedence(served: tuple[str, int, Path]) -> None:
    url, _, images = served
    path = put(images, os.urandom(10_000))
    written = int(time.time()) - 120  # a whole second, two minutes ago
    os.utime(images / path.rsplit("/", 1)[1], (written, written))
    first = fetch(url + path)
    modified, etag = first.headers["last-modified"], first.headers["etag"]
    assert first.status == 200 and modified == formatdate(written, usegmt=True)

    def status(**headers: str) -> tuple[int, bytes]:
        answer = fetch(url + path, {name.replace("_", "-"): value for name, value in headers.items()})
        if answer.status == 304:  # what a cache needs to refresh its copy, and no body
            assert answer.headers["etag"] == etag and answer.headers["last-modified"] == modified
            assert "immutable" in answer.headers["cache-control"]
        return answer.status, answer.body

    assert status(If_Modified_Since=modified) == (304, b"")
    assert status(If_Modified_Since=formatdate(written + 3600, usegmt=True)) == (304, b"")
    assert status(If_Modified_Since=formatdate(written - 1, usegmt=True)) == (200, first.body)
    # The two obsolete forms of HTTP-date a recipient must accept (RFC 9110, 5.6.7).
    when = time.gmtime(written)
    assert status(If_Modified_Since=time.strftime("%A, %d-%b-%y %H:%M:%S GMT", when))[0] == 304
    assert status(If_Modified_Since=time.strftime("%a %b %e %H:%M:%S %Y", when))[0] == 304
    for nonsense in ("yesterday", "", "Mon, 99 Foo 2026 25:61:00 GMT", modified + ", " + modified):
        assert status(If_Modified_Since=nonsense) == (200, first.body), nonsense  # not a date: ignored
    # If-None-Match is evaluated instead of If-Modified-Since whenever both are sent (RFC 9110, 13.2.2).
    assert status(If_None_Match='"another"', If_Modified_Since=modified) == (200, first.body)
    assert status(If_None_Match=etag, If_Modified_Since=formatdate(written - 60, usegmt=True)) == (304, b"")
    head = call("HEAD", url + path, headers={"If-Modified-Since": modified})
    assert head.status == 304 and head.body == b""

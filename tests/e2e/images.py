"""Helpers shared by the image tests: image checks, raw GETs, and what reached the emulator."""

from __future__ import annotations

import http.client
import struct
from urllib.parse import urlsplit

from tests.http import Answer, call
from tests.servers import Emulator

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


def size_of(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG or baseline JPEG."""
    if data.startswith(PNG):
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    assert data.startswith(JPEG), data[:8]
    offset = 2
    while data[offset + 1] != 0xC0:
        offset += 2 + struct.unpack(">H", data[offset + 2 : offset + 4])[0]
    height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
    return width, height


def fetch(url: str, headers: dict[str, str] | None = None) -> Answer:
    """GET with no API key, as a browser showing the picture would."""
    return call("GET", url, headers=headers or {})


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """A GET of `path` exactly as written (no client normalises `..` or percent escapes away)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def runs(upstream: Emulator) -> list[dict[str, object]]:
    return [r for r in upstream.requests() if "/ai/run/" in str(r["path"])]

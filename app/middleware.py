"""The body limit, as pure ASGI pieces the edge (app/edge.py) applies to every request.

The edge reads a hot route's body itself with `read_body`, and wraps `receive` with `limited` for FastAPI's
routes; both refuse a declared Content-Length over the limit before reading, and a body without one as soon
as it passes the limit. Only `receive` is wrapped: handlers read the whole body before they answer, so the
413 always comes before any response byte, and streamed answers pass through untouched.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope

from app.errors import PayloadTooLarge


class TooLarge(Exception):
    """Raised from `receive` once a body passes the limit."""


def declared_too_large(scope: Scope, max_bytes: int) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.isdigit() and int(value) > max_bytes)
    return False


def limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive` that raises TooLarge once more than `max_bytes` of body have arrived."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise TooLarge
        return message

    return limited_receive


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole request body; TooLarge past `max_bytes`, ClientDisconnect if the client leaves first."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        part: bytes = message.get("body", b"")
        size += len(part)
        if size > max_bytes:
            raise TooLarge
        parts.append(part)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def too_large_error(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this gateway accepts ({max_bytes} bytes).", code="request_too_large"
    )

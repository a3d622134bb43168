"""Pure ASGI pieces around the app (BaseHTTPMiddleware would cost a task per request).

`BodyLimit` guards every FastAPI route by wrapping `receive`; the fast lane (`app/fastlane.py`) reads
the body itself with `read_body`. Both refuse a declared Content-Length over the limit before reading,
and a body without one as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, renderer_for


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


class BodyLimit:
    """Refuses bodies over `max_bytes` with a 413, by Content-Length or while they stream in.

    Only `receive` is wrapped: handlers read the whole body before they answer, so the 413 always comes
    before any response byte, and streamed answers pass through untouched.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if declared_too_large(scope, self.max_bytes):
                raise TooLarge
            await self.app(scope, limited(receive, self.max_bytes), send)
        except TooLarge:
            await renderer_for(scope["path"])(too_large_error(self.max_bytes))(scope, receive, send)

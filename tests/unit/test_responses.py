"""EventStreamResponse at the ASGI boundary: which messages the server is asked to send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from app.http_responses import EventStreamResponse
from app.sse import DONE


def sent_messages(frames: list[bytes]) -> list[dict[str, Any]]:
    async def body() -> AsyncIterator[bytes]:
        for frame in frames:
            yield frame

    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client never hangs up
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(EventStreamResponse(body())({"type": "http"}, receive, send))
    return messages


def test_done_leaves_with_the_end_of_the_body() -> None:
    """A client that stops reading at [DONE] (most SSE clients) then finds the response complete and can
    reuse its connection; uvicorn writes the last frame and the chunked terminator in one `send`."""
    messages = sent_messages([b"data: {}\n\n", b"data: {}\n\n" + DONE])
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body", "http.response.body"]
    assert messages[-1] == {"type": "http.response.body", "body": b"data: {}\n\n" + DONE, "more_body": False}
    assert messages[1]["more_body"] is True


def test_a_body_without_done_is_still_ended() -> None:
    messages = sent_messages([b"data: {}\n\n"])
    assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert dict(messages[0]["headers"])[b"content-type"] == b"text/event-stream; charset=utf-8"

"""One batch line, served in this process by the gateway's own ASGI app, exactly as if a client had POSTed
it: the same route, conversion, account choice, rate limits, neuron counting, request line and error
rendering as an interactive request. The owner's identity travels in the scope under BATCH_CALLER (only
this module sets it; nothing from the wire reaches a scope key), and `app/caller.py` takes it in place of
a presented key, so the line runs and is limited and counted as the key that made the batch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import orjson
from starlette.types import ASGIApp, Message

from app.upstream.client import Credentials

BATCH_CALLER = "gateway.batch_caller"
# The key a request presented, as app/caller.py found it; for a batch line, its owner (a key id, never a key),
# so the response cache and the Responses store keep each owner's lines apart.
CALLER_KEY = "gateway.caller_key"


@dataclass(slots=True)
class Answer:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)

    def json(self) -> object:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {"error": {"message": "The answer was not JSON.", "type": "server_error", "param": None}}


async def dispatch(
    app: ASGIApp, path: str, body: bytes, creds: Credentials, request_id: str, owner: str = ""
) -> Answer:
    """POSTs `body` to `path` on `app` as `creds`; the whole answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ],
        "client": ("127.0.0.1", 0),
        "server": ("batch", 0),
        "state": {},
        BATCH_CALLER: creds,
        CALLER_KEY: f"batch-owner:{owner}" if owner else None,
    }
    answer = Answer()
    sent = False
    never = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await never.wait()  # nobody hangs up: the line's answer is always read to its end
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", ())}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(scope, receive, send)
    return answer

"""The gateway's own work on one request, in-process: its ASGI app with the upstream pool replaced by
canned Workers AI answers (the fake upstream's bodies), no sockets, no server.

`python -m bench.studies.instructions` runs this under valgrind to count the instructions a request costs,
a figure that does not move with the machine's speed. Answers are checked (the warm-up ones and the
last), so the count is for requests that worked.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson

from app.config import Settings
from app.main import create_app
from app.upstream import connection_pool
from bench.endpoints import ACCOUNT, GATEWAY_KEY, UPSTREAM_TOKEN
from bench.fake_upstream import Canned, Knobs

Message = dict[str, Any]
KINDS = ("chat", "stream", "stream1", "messages", "mstream", "mstream1", "responses", "rstream", "rstream1")
CHUNKS = {"stream": 20, "stream1": 1, "mstream": 20, "mstream1": 1, "rstream": 20, "rstream1": 1}  # content events
MESSAGES = ("messages", "mstream", "mstream1")  # the same requests through /v1/messages (Anthropic's shape)
RESPONSES = ("responses", "rstream", "rstream1")  # the Responses API (POST /v1/responses) kinds
FIRST_READ_EVENTS = 3  # events in the first read of a stream, as the bench sees over loopback


class _CannedStream:
    """A pool stream that hands over the canned SSE body in two reads."""

    content_type = "text/event-stream"

    def __init__(self, canned: Canned) -> None:
        self.status = 200
        self.headers = {"content-type": self.content_type}
        frames = canned.frames
        self._reads = [b"".join(frames[:FIRST_READ_EVENTS]), b"".join(frames[FIRST_READ_EVENTS:]) + canned.tail]

    async def read_some(self) -> bytes | None:
        return self._reads.pop(0) if self._reads else None

    async def read(self) -> bytes:
        return b"".join(self._reads)

    def watch(self, progress: Any) -> None:
        pass

    async def aclose(self) -> None:
        self._reads = []


class CannedPool:
    """Stands in for `ConnectionPool`: answers every run call with the fake upstream's canned body."""

    def __init__(self, chunks: int = 20) -> None:
        self.canned = Canned(Knobs(chunks=chunks))

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"", **_: Any) -> Any:
        return connection_pool.Response(200, {"content-type": "application/json"}, self.canned.chat)

    async def stream(
        self, method: str, path: str, headers: dict[str, str], body: bytes, *, meanwhile: Any = None, **_: Any
    ) -> Any:
        if meanwhile is not None:  # the pool runs it once the request is sent
            meanwhile()
        return _CannedStream(self.canned)

    async def close(self) -> None:
        pass


def request_body(kind: str) -> bytes:
    if kind in RESPONSES:  # what the SDKs send: input as a string, the default `store: true`
        return orjson.dumps(
            {
                "model": "@cf/meta/llama-3.1-8b-instruct-fast",
                "input": "hi there",
                "max_output_tokens": 100,
                **({"stream": True} if kind in CHUNKS else {}),
            }
        )
    body: dict[str, Any] = {
        "model": "@cf/meta/llama-3.1-8b-instruct-fast",
        "messages": [{"role": "user", "content": "hi there"}],
        "max_tokens": 100,
    }
    if kind in CHUNKS:
        body["stream"] = True
    return orjson.dumps(body)


def path_of(kind: str) -> str:
    if kind in MESSAGES:
        return "/v1/messages"
    return "/v1/responses" if kind in RESPONSES else "/v1/chat/completions"


async def _one(app: Callable[..., Awaitable[None]], body: bytes, path: str = "/v1/chat/completions") -> list[Message]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer " + GATEWAY_KEY.encode()),
            (b"content-length", b"%d" % len(body)),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        return await never  # the client never hangs up

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def check(kind: str, sent: list[Message]) -> None:
    """Raises unless the answer is the one a client expects."""
    if not sent or sent[0].get("status") != 200:
        raise RuntimeError(f"{kind}: the gateway answered {sent[:1]}")
    body = b"".join(m.get("body", b"") for m in sent[1:])
    if kind in MESSAGES:
        if kind not in CHUNKS:
            if orjson.loads(body)["content"][0]["type"] != "text":
                raise RuntimeError(f"{kind}: unexpected body {body[:200]!r}")
        elif not body.endswith(b'data: {"type":"message_stop"}\n\n') or body.count(b'"text":"tok') != CHUNKS[kind]:
            raise RuntimeError(f"{kind}: unexpected body {body[:200]!r}")
    elif kind in RESPONSES:
        deltas = body.count(b"event: response.output_text.delta")
        if kind in CHUNKS and (deltas != CHUNKS[kind] or not body.endswith(b"\n\n")):
            raise RuntimeError(f"{kind}: unexpected body {body[:200]!r}")
        if b'"status":"completed"' not in body:
            raise RuntimeError(f"{kind}: unexpected body {body[:200]!r}")
    elif kind in CHUNKS:
        if not body.endswith(b"data: [DONE]\n\n") or body.count(b'"content":"tok') != CHUNKS[kind]:
            raise RuntimeError(f"{kind}: unexpected body {body[:200]!r}")
    elif orjson.loads(body)["choices"][0]["message"]["content"] is None:
        raise RuntimeError(f"chat: unexpected body {body[:200]!r}")


async def serve(kind: str, requests: int, warmup: int = 50) -> None:
    """Build the app, warm it up, then serve `requests` requests of `kind` (and one more, checked)."""
    settings = Settings(
        cf_api_base="http://127.0.0.1:9/client/v4",
        cf_account_id=ACCOUNT,
        cf_api_token=UPSTREAM_TOKEN,
        gateway_api_keys=[GATEWAY_KEY],
        rate_limits={"*": 1_000_000_000},  # on, as in production, but never reached (bench/__main__.py)
    )
    app = create_app(settings)
    fastapi_app = app.app
    async with fastapi_app.router.lifespan_context(fastapi_app):
        upstream = fastapi_app.state.gateway.upstream.client
        await upstream.close()
        await upstream.start(cast(connection_pool.ConnectionPool, CannedPool(CHUNKS.get(kind, 20))))
        body, path = request_body(kind), path_of(kind)
        for _ in range(warmup):  # every warm-up answer is checked; the counted ones are not (checking costs)
            check(kind, await _one(app, body, path))
        for _ in range(requests):
            await _one(app, body, path)
        check(kind, await _one(app, body, path))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.inprocess", description=__doc__)
    parser.add_argument("--kind", choices=KINDS, default="chat")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.kind, args.requests))


if __name__ == "__main__":
    main()

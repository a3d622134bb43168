"""A fast fake Workers AI upstream: a raw ASGI app with canned, pre-encoded answers.

It serves `POST /client/v4/accounts/{account}/ai/run/{model}` in the four shapes the gateway needs:
chat JSON, chat SSE (when the body has `"stream": true`), embeddings (model ids containing `bge`), m2m100
translation (`{"translated_text": "[<target>] <text>"}`, model ids containing `m2m100`) and raw PNG bytes for
image models (ids containing `diffusion`), the size of a real 1024x1024 picture.
No framework, no per-request encoding beyond a dict lookup, so it stays well over 5x faster than the
gateway it feeds (the benchmark checks that in every run).

Knobs (latency, chunk count, chunk delay) come from the command line or the environment at start, and
can be changed while running through `POST /__bench/config`, so one upstream process serves every
scenario through one gateway. `GET /__bench/stats` reports requests seen and peak requests in flight
(the proof that embeddings fan out concurrently); `POST /__bench/reset` zeroes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

RUN_MARKER = "/ai/run/"
EMBEDDING_DIM = 384
MAX_EMBEDDING_BATCH = 100
CHAT_TEXT = "Hello! I am a canned answer from the benchmark's fake Workers AI upstream. How can I help?"

IMAGE_BYTES = 512 * 1024  # about what SDXL answers for 1024x1024
_JSON_HEADERS = [(b"content-type", b"application/json")]
_PNG_HEADERS = [(b"content-type", b"image/png")]
_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


@dataclass
class Knobs:
    """What the upstream simulates: time before answering, stream length, time between frames."""

    latency_ms: float = 0.0
    chunks: int = 20
    chunk_delay_ms: float = 0.0

    @classmethod
    def from_env(cls) -> Knobs:
        return cls(
            latency_ms=float(os.environ.get("LATENCY_MS", "0")),
            chunks=int(os.environ.get("CHUNKS", "20")),
            chunk_delay_ms=float(os.environ.get("CHUNK_DELAY_MS", "0")),
        )


def _envelope(result: bytes) -> bytes:
    return b'{"result":' + result + b',"success":true,"errors":[],"messages":[]}'


def _error(status: int, message: str) -> tuple[int, bytes]:
    body = orjson.dumps(
        {"result": None, "success": False, "errors": [{"code": 5006, "message": message}], "messages": []}
    )
    return status, body


def _embedding_vector() -> bytes:
    """One unit-length vector, built once; values rounded like float32 output."""
    rng = random.Random(384)
    raw = [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIM)]
    norm = sum(x * x for x in raw) ** 0.5
    return orjson.dumps([round(x / norm, 9) for x in raw])


class Canned:
    """Pre-encoded bodies for the current knobs; rebuilt only when the knobs change."""

    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        words = len(CHAT_TEXT.split())
        usage = {"prompt_tokens": 12, "completion_tokens": words, "total_tokens": 12 + words}
        self.chat = _envelope(orjson.dumps({"response": CHAT_TEXT, "usage": usage}))
        self.frames = [b'data: {"response":"tok%d ","p":"abc"}\n\n' % i for i in range(max(knobs.chunks, 0))]
        stream_usage = {
            "prompt_tokens": 12,
            "completion_tokens": knobs.chunks,
            "total_tokens": 12 + knobs.chunks,
        }
        self.tail = b"data: " + orjson.dumps({"response": "", "usage": stream_usage}) + b"\n\ndata: [DONE]\n\n"
        # PNG's signature, then bytes that do not compress (the gateway checks the signature only).
        self.image = b"\x89PNG\r\n\x1a\n" + random.Random(512).randbytes(IMAGE_BYTES - 8)
        self._vector = _embedding_vector()
        self._embeddings: dict[int, bytes] = {}

    def embeddings(self, count: int) -> bytes:
        body = self._embeddings.get(count)
        if body is None:
            data = b"[" + b",".join([self._vector] * count) + b"]"
            result = b'{"shape":[%d,%d],"data":%s,"pooling":"mean"}' % (count, EMBEDDING_DIM, data)
            body = self._embeddings[count] = _envelope(result)
        return body


class FakeUpstream:
    """The ASGI app. One instance per process; state is the knobs and two counters."""

    def __init__(self, knobs: Knobs | None = None) -> None:
        self.canned = Canned(knobs or Knobs())
        self.requests = 0
        self.inflight = 0
        self.max_inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        if path.startswith("/__bench/"):
            status, payload = self._control(scope["method"], path, body)
            await _respond(send, status, payload)
            return
        self.requests += 1
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            await self._run(scope, path, body, send)
        finally:
            self.inflight -= 1

    async def _run(self, scope: Scope, path: str, body: bytes, send: Send) -> None:
        marker = path.find(RUN_MARKER)
        if scope["method"] != "POST" or marker < 0:
            await _respond(send, *_error(404, f"No route for {path}"))
            return
        if not _has_bearer(scope):
            await _respond(send, *_error(401, "Authentication error"))
            return
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            await _respond(send, *_error(400, "Invalid JSON body"))
            return
        canned = self.canned
        if canned.knobs.latency_ms > 0:
            await asyncio.sleep(canned.knobs.latency_ms / 1000)
        model = path[marker + len(RUN_MARKER) :]
        if "bge" in model:
            await _respond(send, *self._embed(payload))
        elif "m2m100" in model:
            await _respond(send, *_translate(payload))
        elif "diffusion" in model:
            await _respond(send, 200, canned.image, _PNG_HEADERS)
        elif isinstance(payload, dict) and payload.get("stream") is True:
            await self._stream(send, canned)
        else:
            await _respond(send, 200, canned.chat)

    def _embed(self, payload: Any) -> tuple[int, bytes]:
        text = payload.get("text") if isinstance(payload, dict) else None
        count = 1 if isinstance(text, str) else len(text) if isinstance(text, list) else 0
        if count == 0:
            return _error(400, "Embeddings need a non-empty 'text'")
        if count > MAX_EMBEDDING_BATCH:
            return _error(400, f"At most {MAX_EMBEDDING_BATCH} texts a request, got {count}")
        return 200, self.canned.embeddings(count)

    async def _stream(self, send: Send, canned: Canned) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        delay = canned.knobs.chunk_delay_ms / 1000
        for index, frame in enumerate(canned.frames):
            if delay > 0 and index > 0:
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        if delay > 0:
            await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": canned.tail, "more_body": False})

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path == "/__bench/health":
            return 200, b'{"ok":true}'
        if path == "/__bench/stats":
            return 200, orjson.dumps({"requests": self.requests, "max_inflight": self.max_inflight})
        if path == "/__bench/reset" and method == "POST":
            self.requests = 0
            self.max_inflight = self.inflight
            return 200, b'{"ok":true}'
        if path == "/__bench/config" and method == "POST":
            try:
                knobs = Knobs(**{**asdict(self.canned.knobs), **orjson.loads(body or b"{}")})
            except (orjson.JSONDecodeError, TypeError) as exc:
                return 400, orjson.dumps({"ok": False, "error": str(exc)})
            self.canned = Canned(knobs)
            return 200, orjson.dumps(asdict(knobs))
        return 404, b'{"ok":false}'


def _translate(payload: Any) -> tuple[int, bytes]:
    text = payload.get("text") if isinstance(payload, dict) else None
    target = payload.get("target_lang") if isinstance(payload, dict) else None
    if not isinstance(text, str) or not text or not isinstance(target, str):
        return _error(400, "Translation needs 'text' and 'target_lang'")
    return 200, _envelope(orjson.dumps({"translated_text": f"[{target}] {text}"}))


def _has_bearer(scope: Scope) -> bool:
    return any(name == b"authorization" and value.startswith(b"Bearer ") for name, value in scope["headers"])


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    parts = [body]
    while message.get("more_body", False):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


async def _respond(send: Send, status: int, body: bytes, kind: list[tuple[bytes, bytes]] = _JSON_HEADERS) -> None:
    headers = [*kind, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main(argv: list[str] | None = None) -> None:
    """Run the fake upstream on uvloop, served by `bench/asgi_server.py` (or uvicorn, to compare)."""
    import uvicorn
    import uvloop

    from bench.asgi_server import serve

    defaults = Knobs.from_env()
    parser = argparse.ArgumentParser(prog="python -m bench.fake_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--chunks", type=int, default=defaults.chunks)
    parser.add_argument("--chunk-delay-ms", type=float, default=defaults.chunk_delay_ms)
    parser.add_argument("--server", choices=("minimal", "uvicorn"), default="minimal")
    args = parser.parse_args(argv)
    app = FakeUpstream(Knobs(args.latency_ms, args.chunks, args.chunk_delay_ms))
    if args.server == "minimal":
        uvloop.run(serve(app, args.host, args.port))
        return
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="off",
        backlog=4096,
        timeout_keep_alive=75,  # longer than any client's idle keep-alive: no request on a closing connection
    )


if __name__ == "__main__":
    main()

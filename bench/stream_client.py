"""A small SSE client that timestamps the first and every later event of a stream.

It speaks HTTP/1.1 over raw asyncio protocols (the framing is `bench.drivers.ResponseParser`, as in the
built-in load driver), with keep-alive connections. The client shares its core with the fake upstream,
so what it costs per stream lands in the timings. It replaced an aiohttp client: in five rounds
interleaved on one build, aiohttp put the time-to-first-token overhead at 0.43-0.71 ms (median 0.51)
where a bare blocking-socket client measured 0.32-0.53 ms (median 0.33), and aiohttp's direct TTFT swung
between 0.33 and 0.61 ms (the socket client's: 0.03-0.06 ms). This client measured 0.32-0.47 ms in its
first full bench run. How any client on that core sees the fake upstream's zero-delay burst, and what
that does to the per-chunk figure: `bench/README.md`.

Time-to-first-token is the arrival of the first event that carries text (the gateway may send a
role-only chunk first; that is not a token). The stream's total is the arrival of `data: [DONE]`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.drivers import Request, ResponseParser

TextOf = Callable[[Any], str | None]


def workers_ai_text(event: Any) -> str | None:
    """Text of a Workers AI stream frame: `{"response": "..."}`."""
    return event.get("response") if isinstance(event, dict) else None


def openai_text(event: Any) -> str | None:
    """Text of an OpenAI chat.completion.chunk: `choices[0].delta.content`."""
    if not isinstance(event, dict):
        return None
    choices = event.get("choices")
    if not choices or not isinstance(choices, list):
        return None
    delta = choices[0].get("delta") or {}
    content = delta.get("content")
    return content if isinstance(content, str) else None


@dataclass
class StreamSample:
    """One stream, times in seconds from sending the request."""

    status: int = 0
    started_at: float = 0.0
    ttft: float = float("nan")
    total: float = float("nan")
    content_times: list[float] = field(default_factory=list)
    events: int = 0
    done: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.done and bool(self.content_times) and self.error is None

    @property
    def gaps(self) -> list[float]:
        times = self.content_times
        return [b - a for a, b in itertools.pairwise(times)]


@dataclass(frozen=True)
class StreamRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    text_of: TextOf

    @cached_property
    def _parts(self) -> tuple[str, int, str]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"

    @property
    def host(self) -> str:
        return self._parts[0]

    @property
    def port(self) -> int:
        return self._parts[1]

    @cached_property
    def encoded(self) -> bytes:
        """The request as it goes on the wire (built once, outside the timing)."""
        return Request(self.port, self._parts[2], self.body, tuple(self.headers.items())).encode()


class _Exchange(asyncio.Protocol):
    """One keep-alive connection; times one stream at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = ResponseParser(on_body=self._body)
        self._events = b""
        self._sample = StreamSample()
        self._text_of: TextOf = workers_ai_text
        self._done: asyncio.Future[None] | None = None
        self._now = 0.0  # arrival of the bytes being parsed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports don't subclass asyncio's

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is not None and not self._done.done():
            self._sample.error = f"connection closed ({type(exc).__name__ if exc else 'by the server'})"
            self._done.set_result(None)

    def start(self, request: StreamRequest, sample: StreamSample) -> asyncio.Future[None]:
        assert self.transport is not None
        self._sample, self._text_of, self._events = sample, request.text_of, b""
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(request.encoded)
        return self._done

    def data_received(self, data: bytes) -> None:
        self._now = time.perf_counter()
        try:
            statuses = self._parser.feed(data)
        except (ValueError, orjson.JSONDecodeError) as exc:
            self._sample.error = f"{type(exc).__name__}: {exc}"
            statuses = [0]
            self.close()
        if statuses and self._done is not None and not self._done.done():
            self._sample.status = self._sample.status or statuses[0]
            self._done.set_result(None)

    def _body(self, piece: bytes) -> None:
        sample = self._sample
        *events, self._events = (self._events + piece).split(b"\n\n")
        for event in events:
            if not event.startswith(b"data:"):
                continue
            now = self._now - sample.started_at
            sample.events += 1
            data = event[5:].strip()
            if data == b"[DONE]":
                sample.done = True
                sample.total = now
            elif not sample.done and self._text_of(orjson.loads(data)):
                if not sample.content_times:
                    sample.ttft = now
                sample.content_times.append(now)


class StreamClient:
    """Times SSE streams over keep-alive connections, opening one more whenever none is free."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, int], list[_Exchange]] = {}

    async def time(self, request: StreamRequest) -> StreamSample:
        """One stream: status, time to the first text event, every text event's time, and [DONE]'s."""
        sample = StreamSample(started_at=time.perf_counter())
        key = (request.host, request.port)
        idle = self._idle.setdefault(key, [])
        while idle and idle[-1].closed:  # the server ended it while it sat idle
            idle.pop()
        try:
            conn = idle.pop() if idle else await self._connect(*key)
        except OSError as exc:
            sample.error = f"{type(exc).__name__}: {exc}"
            return sample
        try:
            await asyncio.wait_for(conn.start(request, sample), self.timeout)
        except TimeoutError:
            sample.error = f"no complete answer within {self.timeout} s"
        if conn.closed or sample.error is not None:
            conn.close()  # mid-answer or broken: never reused
        else:
            idle.append(conn)
        return sample

    @staticmethod
    async def _connect(host: str, port: int) -> _Exchange:
        _, conn = await asyncio.get_running_loop().create_connection(_Exchange, host, port)
        return conn

    async def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def __aenter__(self) -> StreamClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def run_sequential(
    client: StreamClient, request: StreamRequest, *, duration: float, max_streams: int
) -> list[StreamSample]:
    """One stream after another (concurrency 1) for `duration` seconds or `max_streams` streams."""
    samples: list[StreamSample] = []
    stop_at = time.perf_counter() + duration
    while time.perf_counter() < stop_at and len(samples) < max_streams:
        samples.append(await client.time(request))
    return samples


async def run_concurrent(
    client: StreamClient, request: StreamRequest, *, concurrency: int, duration: float
) -> tuple[list[StreamSample], float]:
    """Closed loop at `concurrency` for `duration` seconds; returns samples and the elapsed time."""
    samples: list[StreamSample] = []
    started = time.perf_counter()
    stop_at = started + duration

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            samples.append(await client.time(request))

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout=duration + 60)
    return samples, time.perf_counter() - started


async def run_burst(client: StreamClient, request: StreamRequest, *, count: int) -> list[StreamSample]:
    """`count` streams opened at once."""
    return list(await asyncio.gather(*(client.time(request) for _ in range(count))))


def peak_open(samples: list[StreamSample]) -> int:
    """Most streams that had produced their first token and not yet finished at the same moment."""
    edges: list[tuple[float, int]] = []
    for sample in samples:
        if not sample.content_times:
            continue
        end = sample.total if sample.done else sample.content_times[-1]
        edges.append((sample.started_at + sample.content_times[0], 1))
        edges.append((sample.started_at + end, -1))
    best = current = 0
    for _, step in sorted(edges):
        current += step
        best = max(best, current)
    return best

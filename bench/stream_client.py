"""A small aiohttp SSE client that timestamps the first and every later event of a stream.

Time-to-first-token is the arrival of the first event that carries text (the gateway may send a
role-only chunk first; that is not a token). The stream's total is the arrival of `data: [DONE]`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

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


async def time_stream(session: aiohttp.ClientSession, request: StreamRequest) -> StreamSample:
    started = time.perf_counter()
    sample = StreamSample(started_at=started)
    try:
        async with session.post(request.url, data=request.body, headers=request.headers) as resp:
            sample.status = resp.status
            async for line in resp.content:
                if not line.startswith(b"data:"):
                    continue
                now = time.perf_counter() - started
                sample.events += 1
                data = line[5:].strip()
                if data == b"[DONE]":
                    sample.done = True
                    sample.total = now
                    break
                if request.text_of(orjson.loads(data)):
                    if not sample.content_times:
                        sample.ttft = now
                    sample.content_times.append(now)
    except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError) as exc:
        sample.error = f"{type(exc).__name__}: {exc}"
    return sample


def new_session(*, limit: int = 0, timeout: float = 60.0) -> aiohttp.ClientSession:
    """Keep-alive session; `limit=0` lets a burst open as many connections as it has streams."""
    connector = aiohttp.TCPConnector(limit=limit, force_close=False, keepalive_timeout=2)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def run_sequential(
    session: aiohttp.ClientSession, request: StreamRequest, *, duration: float, max_streams: int
) -> list[StreamSample]:
    """One stream after another (concurrency 1) for `duration` seconds or `max_streams` streams."""
    samples: list[StreamSample] = []
    stop_at = time.perf_counter() + duration
    while time.perf_counter() < stop_at and len(samples) < max_streams:
        samples.append(await time_stream(session, request))
    return samples


async def run_concurrent(
    session: aiohttp.ClientSession, request: StreamRequest, *, concurrency: int, duration: float
) -> tuple[list[StreamSample], float]:
    """Closed loop at `concurrency` for `duration` seconds; returns samples and the elapsed time."""
    samples: list[StreamSample] = []
    started = time.perf_counter()
    stop_at = started + duration

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            samples.append(await time_stream(session, request))

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout=duration + 60)
    return samples, time.perf_counter() - started


async def run_burst(session: aiohttp.ClientSession, request: StreamRequest, *, count: int) -> list[StreamSample]:
    """`count` streams opened at once."""
    return list(await asyncio.gather(*(time_stream(session, request) for _ in range(count))))


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

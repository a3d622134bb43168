"""Streaming timing and chunk gaps, embeddings fan-out, memory, and the correctness check.

Figure keys are dotted names (`stream.c1.ttft_overhead_p50_ms`); `report.py` turns the ones with
targets into rows. Every figure is a `Summary` over rounds (median, min-max).
"""

from __future__ import annotations

import asyncio
import functools
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import orjson

from bench import endpoints
from bench.cached import response_cache
from bench.context import MB, Bench
from bench.endpoints import Endpoint
from bench.images import images
from bench.load import non_streaming, stream_throughput
from bench.procs import RssSampler, tree_rss_bytes
from bench.responses import responses_api
from bench.shared_state import redis_backend
from bench.stats import Summary, paired_differences, percentile
from bench.stream_client import (
    StreamClient,
    StreamSample,
    peak_open,
    run_burst,
    run_concurrent,
    run_sequential,
)
from bench.translation import translation_page

# --- streaming chat --------------------------------------------------------------------------------


def _ok(bench: Bench, side: Endpoint, samples: list[StreamSample]) -> list[StreamSample]:
    good = [s for s in samples if s.ok]
    bench.record.errors[side.name] += len(samples) - len(good)
    bad = next((s for s in samples if not s.ok), None)
    if bad is not None:
        bench.record.problems.append(f"{side.name} stream failed: status {bad.status}, {bad.error or 'incomplete'}")
    return good


async def stream_timing(bench: Bench) -> None:
    """Concurrency 1: time to first token and time from first token to [DONE]; the pass-through proxy
    (the floor) is timed in the same rounds when it runs."""
    plan, rec = bench.plan, bench.record
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
    sides = bench.sides_and_floor
    for side in sides:
        await run_sequential(bench.streams, side.stream_request(), duration=plan.warmup, max_streams=500)
    ttft50: dict[str, list[float]] = {side.name: [] for side in sides}
    ttft99: dict[str, list[float]] = {side.name: [] for side in sides}
    span50: dict[str, list[float]] = {side.name: [] for side in sides}
    for round_index in range(plan.rounds):
        for side in bench.ordered(round_index, sides):
            timed = await bench.steady(f"stream.c1 round {round_index}", side, functools.partial(_timing, bench, side))
            ttft50[side.name].append(timed.ttft_p50_ms)
            ttft99[side.name].append(timed.ttft_p99_ms)
            span50[side.name].append(timed.after_first_p50_ms)
    for name in ttft50:
        rec.put(f"stream.c1.{name}.ttft_p50_ms", ttft50[name])
        rec.put(f"stream.c1.{name}.ttft_p99_ms", ttft99[name])
        rec.put(f"stream.c1.{name}.after_first_p50_ms", span50[name])

    def per_chunk_us(name: str) -> list[float]:
        """Time from first token to [DONE], over direct's, per chunk after the first."""
        return [v * 1000 / (plan.chunks - 1) for v in paired_differences(span50[name], span50["direct"])]

    def end_overhead_ms(name: str) -> list[float]:
        """How much later than direct's the stream ends: TTFT overhead plus every chunk's, whatever the split."""
        ends = {key: [t + s for t, s in zip(ttft50[key], span50[key], strict=True)] for key in (name, "direct")}
        return paired_differences(ends[name], ends["direct"])

    if "gateway" in ttft50:
        rec.put("stream.c1.ttft_overhead_p50_ms", paired_differences(ttft50["gateway"], ttft50["direct"]))
        rec.put("stream.c1.ttft_overhead_p99_ms", paired_differences(ttft99["gateway"], ttft99["direct"]))
        rec.put("stream.c1.per_chunk_overhead_us", per_chunk_us("gateway"))
        rec.put("stream.c1.end_overhead_ms", end_overhead_ms("gateway"))
    if "floor" in ttft50:
        rec.put("stream.c1.floor.ttft_overhead_p50_ms", paired_differences(ttft50["floor"], ttft50["direct"]))
        rec.put("stream.c1.floor.per_chunk_overhead_us", per_chunk_us("floor"))
        rec.put("stream.c1.floor.end_overhead_ms", end_overhead_ms("floor"))
        if "gateway" in ttft50:
            rec.put("stream.c1.ttft_over_floor_p50_ms", paired_differences(ttft50["gateway"], ttft50["floor"]))


@dataclass(frozen=True)
class TimingRound:
    ttft_p50_ms: float
    ttft_p99_ms: float
    after_first_p50_ms: float  # first token to [DONE]
    streams: int


async def _timing(bench: Bench, side: Endpoint) -> TimingRound:
    """One round of back-to-back streams (concurrency 1)."""
    samples = await run_sequential(
        bench.streams,
        side.stream_request(),
        duration=bench.plan.duration,
        max_streams=bench.plan.max_sequential_streams,
    )
    good = _ok(bench, side, samples)
    ttft = [s.ttft * 1000 for s in good]
    after_first = [(s.total - s.ttft) * 1000 for s in good]
    return TimingRound(percentile(ttft, 50), percentile(ttft, 99), percentile(after_first, 50), len(good))


async def stream_gaps(bench: Bench) -> None:
    """Upstream sends a frame every 10 ms: the gateway must pass each on at once (no buffering)."""
    plan, rec = bench.plan, bench.record
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=plan.gap_delay_ms)
    gap99: dict[str, list[float]] = {side.name: [] for side in bench.sides}
    gap_max: dict[str, list[float]] = {side.name: [] for side in bench.sides}
    gap_min: dict[str, list[float]] = {side.name: [] for side in bench.sides}
    try:
        for round_index in range(plan.rounds):
            for side in bench.ordered(round_index):
                run = functools.partial(_gaps, bench, side)
                gaps = await bench.steady(f"stream.gap10 round {round_index}", side, run)
                gap99[side.name].append(gaps.p99_ms)
                gap_max[side.name].append(gaps.max_ms)
                gap_min[side.name].append(gaps.min_ms)
    finally:
        await bench.configure(chunk_delay_ms=0)
    if "gateway" in gap99:
        rec.put("stream.gap10.added_p99_ms", paired_differences(gap99["gateway"], gap99["direct"]))
    for name in gap99:
        rec.put(f"stream.gap10.{name}.p99_ms", gap99[name])
        rec.put(f"stream.gap10.{name}.max_ms", gap_max[name])
        rec.put(f"stream.gap10.{name}.min_ms", gap_min[name])


@dataclass(frozen=True)
class GapRound:
    p99_ms: float
    max_ms: float
    min_ms: float


async def _gaps(bench: Bench, side: Endpoint) -> GapRound:
    """Concurrent streams for a round; the time between consecutive events of each."""
    samples, _elapsed = await run_concurrent(
        bench.streams, side.stream_request(), concurrency=bench.plan.stream_concurrency, duration=bench.plan.duration
    )
    gaps = [g * 1000 for s in _ok(bench, side, samples) for g in s.gaps]
    return GapRound(percentile(gaps, 99), max(gaps, default=math.nan), min(gaps, default=math.nan))


# --- embeddings fan-out ----------------------------------------------------------------------------


async def _timed_post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"POST {url} answered {resp.status}")
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class EmbedRound:
    median_ms: float


async def _embed_calls(bench: Bench, side: Endpoint, body: bytes) -> EmbedRound:
    """`plan.embed_calls` calls one after the other; the median wall time."""
    url = side.base_url + side.embed_path
    headers = dict(side.headers)
    if side.name == "gateway":  # the fan-out itself, every call: the response cache would answer repeats
        headers["Cache-Control"] = "no-store"
    times = [await _timed_post(bench.session, url, body, headers) for _ in range(bench.plan.embed_calls)]
    return EmbedRound(statistics.median(times))


async def embeddings(bench: Bench) -> None:
    """1,000 inputs through the gateway (10 upstream calls) against one 100-input upstream call."""
    plan, rec = bench.plan, bench.record
    await bench.configure(latency_ms=plan.embed_latency_ms, chunks=plan.chunks, chunk_delay_ms=0)
    direct = bench.direct
    one_call = direct.embed_body(endpoints.embedding_inputs(100))
    calls: list[tuple[Endpoint, bytes]] = [(direct, one_call)]
    if bench.gateway is not None:
        gateway = endpoints.gateway(bench.gateway.port)
        calls.append((gateway, gateway.embed_body(endpoints.embedding_inputs(plan.embed_inputs))))
        await _check_embeddings(bench, gateway, calls[1][1])
    walls: dict[str, list[float]] = {side.name: [] for side, _ in calls}
    try:
        for round_index in range(plan.rounds):
            for side, body in calls if round_index % 2 == 0 else calls[::-1]:
                run = functools.partial(_embed_calls, bench, side, body)
                wall = await bench.steady(f"embed round {round_index}", side, run)
                walls[side.name].append(wall.median_ms)
    finally:
        await bench.configure(latency_ms=0)
    rec.put("embed.direct.one_call_ms", walls["direct"])
    if "gateway" in walls:
        rec.put(f"embed.gateway.inputs{plan.embed_inputs}_ms", walls["gateway"])
        pairs = list(zip(walls["gateway"], walls["direct"], strict=True))
        rec.put("embed.wall_over_one_call", [g / d for g, d in pairs])
        rec.put("embed.gateway_own_ms", [g - d for g, d in pairs])


async def _check_embeddings(bench: Bench, gateway: Endpoint, body: bytes) -> None:
    await bench.upstream_stats(reset=True)
    async with bench.session.post(gateway.base_url + gateway.embed_path, data=body, headers=dict(gateway.headers)) as r:
        status, raw = r.status, await r.read()
    stats = await bench.upstream_stats()
    bench.record.details["embed.upstream"] = stats
    bench.record.figures["embed.upstream_max_inflight"] = Summary.single(stats["max_inflight"])
    if status != 200:
        bench.record.problems.append(f"embeddings: gateway answered {status}: {raw[:300]!r}")
        bench.record.errors["gateway"] += 1
        return
    data = orjson.loads(raw).get("data", [])
    if len(data) != bench.plan.embed_inputs or len(data[0].get("embedding", [])) != 384:
        bench.record.problems.append(f"embeddings: expected {bench.plan.embed_inputs} vectors of 384")


# --- memory ----------------------------------------------------------------------------------------


async def idle_memory(bench: Bench) -> None:
    """Resident memory after a short warm-up of the chat paths, once the gateway is quiet."""
    if bench.gateway is None:
        return
    for side in bench.sides:
        await bench.driver.run(side.chat(), connections=4, duration=1)
        await run_sequential(bench.streams, side.stream_request(), duration=0.5, max_streams=200)
    await asyncio.sleep(0.5)
    samples = []
    for _ in range(5):
        samples.append(tree_rss_bytes(bench.gateway.pid) / MB)
        await asyncio.sleep(0.1)
    bench.record.figures["rss.idle_mb"] = Summary.single(statistics.median(samples))


async def open_streams(bench: Bench) -> None:
    """1,000 streams open at once (the upstream holds each ~3 s); all must finish."""
    plan, rec = bench.plan, bench.record
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=plan.burst_chunk_delay_ms)
    try:
        async with StreamClient(timeout=120) as client:
            for side in bench.sides:
                await _burst(bench, client, side)
    finally:
        await bench.configure(chunk_delay_ms=0)
    if bench.gateway is not None and "rss.load_peak_mb" in rec.figures and "rss.idle_mb" in rec.figures:
        growth = rec.figures["rss.load_peak_mb"].median - rec.figures["rss.idle_mb"].median
        rec.figures["rss.load_growth_mb"] = Summary.single(growth)


async def _burst(bench: Bench, client: StreamClient, side: Endpoint) -> None:
    rec, count = bench.record, bench.plan.burst_streams
    await bench.upstream_stats(reset=True)
    pid = bench.pid_of(side)
    started = time.perf_counter()
    if pid is None:
        samples = await run_burst(client, side.stream_request(), count=count)
    else:
        async with RssSampler(pid) as sampler:
            samples = await run_burst(client, side.stream_request(), count=count)
        rec.figures["rss.streams_peak_mb"] = Summary.single(sampler.peak / MB)
    elapsed = time.perf_counter() - started
    stats = await bench.upstream_stats()
    completed = len(_ok(bench, side, samples))
    prefix = f"streams{count}.{side.name}"
    rec.figures[f"{prefix}.completed"] = Summary.single(completed)
    rec.figures[f"{prefix}.peak_open"] = Summary.single(peak_open(samples))
    rec.figures[f"{prefix}.upstream_max_inflight"] = Summary.single(stats["max_inflight"])
    rec.figures[f"{prefix}.wall_s"] = Summary.single(elapsed)
    if pid is not None:
        await asyncio.sleep(1.0)
        rec.figures["rss.after_streams_mb"] = Summary.single(tree_rss_bytes(pid) / MB)


# --- correctness check before measuring ------------------------------------------------------------


async def check_gateway(bench: Bench) -> None:
    """One answer of each kind through the gateway, so a broken gateway is not measured as fast."""
    if bench.gateway is None:
        return
    gateway = endpoints.gateway(bench.gateway.port)
    async with bench.session.post(
        gateway.base_url + gateway.chat_path, data=gateway.chat_body, headers=dict(gateway.headers)
    ) as r:
        status, raw = r.status, await r.read()
    if status != 200:
        bench.record.problems.append(f"chat: gateway answered {status}: {raw[:300]!r}")
    else:
        content = orjson.loads(raw)["choices"][0]["message"]["content"]
        if not content:
            bench.record.problems.append("chat: empty message content")
    samples = await run_sequential(bench.streams, gateway.stream_request(), duration=10, max_streams=1)
    sample = samples[0]
    if not sample.ok or len(sample.content_times) != bench.plan.chunks:
        bench.record.problems.append(
            f"stream: status {sample.status}, done={sample.done}, {len(sample.content_times)} text chunks"
            f" (want {bench.plan.chunks}), error={sample.error}"
        )


Scenario = Callable[[Bench], Awaitable[None]]

SCENARIOS: list[tuple[str, Scenario]] = [
    ("check", check_gateway),
    ("idle memory", idle_memory),
    ("non-streaming chat", non_streaming),
    ("streaming timing (c=1)", stream_timing),
    ("streaming throughput (c=16)", stream_throughput),
    ("chunk gaps (10 ms upstream)", stream_gaps),
    ("embeddings fan-out", embeddings),
    ("translation page (200 paragraphs)", translation_page),
    ("response cache: chat and embeddings, cached against uncached", response_cache),
    ("open streams", open_streams),
    ("images (n=4, then 200 concurrent GETs)", images),
    ("redis: chat with the shared state in Redis against in-process", redis_backend),
    # Last: every answer is stored (the API's default), which grows the gateway's memory by design.
    ("responses API against chat (whole, streamed)", responses_api),
]

"""Closed-loop load rounds: non-streaming chat at each concurrency, and streams/s.

Each round also meters what it cost: gateway and fake-upstream CPU (from /proc), how busy the driver
core was, and how much CPU processes outside the benchmark used (a shared machine shows up there).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bench.context import MB, Bench
from bench.drivers import LoadResult, Request
from bench.endpoints import Endpoint
from bench.procs import CoreMeter, CpuMeter, NoiseMeter, RssSampler
from bench.stats import Summary, paired_differences


@dataclass(frozen=True)
class LoadRound:
    """One driver run plus what it cost: gateway and upstream CPU seconds, driver core busy fraction."""

    result: LoadResult
    gateway_cpu_s: float  # the metered process's: the gateway's, or the pass-through proxy's in its rounds
    upstream_cpu_s: float
    driver_core_busy: float
    foreign_cpu_pct: float

    def per_1k_ms(self, cpu_s: float) -> float:
        return cpu_s * 1e6 / self.result.requests if self.result.requests else math.nan


async def _load_rounds(
    bench: Bench,
    what: str,
    request_of: Callable[[Endpoint], Request],
    concurrency: int,
    *,
    track_rss: bool,
    sides: list[Endpoint] | None = None,
    rounds_range: range | None = None,
    warm_up: bool = True,
) -> dict[str, list[LoadRound]]:
    """Warm `sides` up (default: direct and gateway), then `rounds` interleaved measured runs of each (or
    the rounds of `rounds_range`, for callers that interleave other work), each through `Bench.steady`."""
    plan = bench.plan
    sides = bench.sides if sides is None else sides
    for side in sides if warm_up else ():
        await bench.driver.run(request_of(side), connections=concurrency, duration=plan.warmup)
    rounds: dict[str, list[LoadRound]] = {side.name: [] for side in sides}
    for round_index in rounds_range or range(plan.rounds):
        for side in bench.ordered(round_index, sides):
            run = functools.partial(_load_round, bench, side, request_of(side), concurrency, track_rss=track_rss)
            rounds[side.name].append(await bench.steady(f"{what} round {round_index}", side, run))
    return rounds


async def _load_round(
    bench: Bench, side: Endpoint, request: Request, concurrency: int, *, track_rss: bool, duration: float = 0
) -> LoadRound:
    """One driver run of `side` (`duration` seconds, else the plan's), metered: its errors count, and the peak
    memory, whether or not it is kept."""
    pid = bench.pid_of(side)
    gateway_meter = CpuMeter(pid) if pid is not None else None
    upstream_meter = CpuMeter(bench.upstream.pid)
    core = bench.pinning.driver_cpu
    core_meter = CoreMeter(core) if core is not None else None
    noise = NoiseMeter(bench.pids)
    async with contextlib.AsyncExitStack() as stack:
        track = pid is not None and track_rss and side.name == "gateway"  # the memory figures are the gateway's
        sampler = await stack.enter_async_context(RssSampler(pid)) if pid is not None and track else None
        result = await bench.driver.run(request, connections=concurrency, duration=duration or bench.plan.duration)
    if sampler is not None:
        bench.rss_load_peak = max(bench.rss_load_peak, sampler.peak)
    bench.record.errors[side.name] += result.errors
    return LoadRound(
        result=result,
        gateway_cpu_s=gateway_meter.stop() if gateway_meter else math.nan,
        upstream_cpu_s=upstream_meter.stop(),
        driver_core_busy=core_meter.stop() if core_meter else math.nan,
        foreign_cpu_pct=noise.stop(),
    )


def _record_load(bench: Bench, prefix: str, rounds: dict[str, list[LoadRound]]) -> None:
    rec = bench.record
    for name, runs in rounds.items():
        rec.put(f"{prefix}.{name}.rps", [r.result.rps for r in runs])
        rec.put(f"{prefix}.{name}.p50_ms", [r.result.p50_ms for r in runs])
        rec.put(f"{prefix}.{name}.p99_ms", [r.result.p99_ms for r in runs])
        rec.put(f"{prefix}.{name}.driver_core_busy_pct", [r.driver_core_busy * 100 for r in runs])
        rec.put(f"{prefix}.{name}.upstream_cpu_ms_per_1k", [r.per_1k_ms(r.upstream_cpu_s) for r in runs])
        rec.put(f"{prefix}.{name}.foreign_cpu_pct", [r.foreign_cpu_pct for r in runs])
        rec.details[prefix + "." + name] = [asdict(r) for r in runs]
    if "floor" in rounds:
        floor, dr = rounds["floor"], rounds["direct"]
        p50 = paired_differences([r.result.p50_ms for r in floor], [r.result.p50_ms for r in dr])
        rec.put(f"{prefix}.floor.added_p50_ms", p50)
        p99 = paired_differences([r.result.p99_ms for r in floor], [r.result.p99_ms for r in dr])
        rec.put(f"{prefix}.floor.added_p99_ms", p99)
        rec.put(f"{prefix}.floor.cpu_ms_per_1k", [r.per_1k_ms(r.gateway_cpu_s) for r in floor])
        if "gateway" in rounds:
            gw_p50 = [r.result.p50_ms for r in rounds["gateway"]]
            rec.put(f"{prefix}.added_over_floor_p50_ms", paired_differences(gw_p50, [r.result.p50_ms for r in floor]))
    if "gateway" not in rounds:
        return
    gw, dr = rounds["gateway"], rounds["direct"]
    rec.put(f"{prefix}.added_p50_ms", paired_differences([r.result.p50_ms for r in gw], [r.result.p50_ms for r in dr]))
    rec.put(f"{prefix}.added_p99_ms", paired_differences([r.result.p99_ms for r in gw], [r.result.p99_ms for r in dr]))
    rec.put(f"{prefix}.cpu_ms_per_1k", [r.per_1k_ms(r.gateway_cpu_s) for r in gw])
    rec.put(f"{prefix}.gateway_core_busy_pct", [r.gateway_cpu_s * 100 / r.result.duration_s for r in gw])
    # "At least 5x faster than the gateway": CPU per request of the gateway over the fake upstream's.
    rec.put(
        f"{prefix}.upstream_speedup",
        [g.per_1k_ms(g.gateway_cpu_s) / d.per_1k_ms(d.upstream_cpu_s) for g, d in zip(gw, dr, strict=True)],
    )


async def non_streaming(bench: Bench) -> None:
    await bench.configure(latency_ms=0, chunks=bench.plan.chunks, chunk_delay_ms=0)
    top = max(bench.plan.concurrencies)
    for concurrency in bench.plan.concurrencies:
        sides = bench.sides_and_floor  # the pass-through proxy: the floor every ratio is gated against
        rounds = await _load_rounds(
            bench, f"chat.c{concurrency}", Endpoint.chat, concurrency, track_rss=concurrency == top, sides=sides
        )
        _record_load(bench, f"chat.c{concurrency}", rounds)
    if bench.rss_load_peak:
        bench.record.figures["rss.load_peak_mb"] = Summary.single(bench.rss_load_peak / MB)


async def stream_throughput(bench: Bench) -> None:
    """Completed 20-chunk streams a second at concurrency 16 (wrk counts a stream when it ends), and the
    gateway's CPU per chunk: its CPU per 20-chunk stream minus per 1-chunk stream, over 19, each 1-chunk
    round right after a 20-chunk one (the machine's speed drifts within minutes). Unlike the c=1 timings,
    which depend on how the client and the fake upstream's burst share a core, that is the gateway's own
    work per chunk."""
    plan = bench.plan
    concurrency = plan.stream_concurrency
    rounds: dict[str, list[LoadRound]] = {}
    single: list[LoadRound] = []
    for round_index in range(plan.rounds):
        await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
        full = await _load_rounds(
            bench,
            f"stream.c{concurrency}",
            Endpoint.stream,
            concurrency,
            track_rss=False,
            sides=bench.sides_and_floor,
            rounds_range=range(round_index, round_index + 1),
            warm_up=round_index == 0,
        )
        for name, runs in full.items():
            rounds.setdefault(name, []).extend(runs)
        if "gateway" not in full or plan.chunks < 2:
            continue
        await bench.configure(chunks=1)
        try:
            one = await _load_rounds(
                bench,
                f"stream.c{concurrency} 1-chunk",
                Endpoint.stream,
                concurrency,
                track_rss=False,
                sides=[side for side in bench.sides if side.name == "gateway"],
                rounds_range=range(round_index, round_index + 1),
                warm_up=round_index == 0,
            )
        finally:
            await bench.configure(chunks=plan.chunks)
        single.extend(one["gateway"])
    _record_load(bench, f"stream.c{concurrency}", rounds)
    if not single:
        return
    per_stream = paired_differences(
        [r.per_1k_ms(r.gateway_cpu_s) for r in rounds["gateway"]],  # ms per 1,000 streams = us per stream
        [r.per_1k_ms(r.gateway_cpu_s) for r in single],
    )
    bench.record.put(f"stream.c{concurrency}.cpu_us_per_chunk", [v / (plan.chunks - 1) for v in per_stream])

"""The images scenario: n=4 images through the gateway (four concurrent upstream calls, each answering
~512 kB of PNG), then 200 concurrent GETs of the hosted files; memory and GET throughput.

An image is held once, written once and served from disk with a file response, so the figures to watch
are the gateway's resident memory while it does so and how many hosted-file GETs a second it serves.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import aiohttp
import orjson

from bench import endpoints
from bench.context import MB, Bench
from bench.procs import RssSampler
from bench.stats import Summary

IMAGE_MODEL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
IMAGES = 4
CONCURRENT_GETS = 200


@dataclass(frozen=True)
class ImagesRound:
    generate_ms: float
    urls: list[str]
    gets_rps: float
    get_p99_ms: float
    bytes_served: int


def generation_body() -> bytes:
    return orjson.dumps({"model": IMAGE_MODEL, "prompt": "a lighthouse at dusk", "n": IMAGES, "size": "1024x1024"})


async def one_round(
    session: aiohttp.ClientSession, base_url: str, headers: dict[str, str], gets: int = CONCURRENT_GETS
) -> ImagesRound:
    """Generate IMAGES images, then fetch the hosted files `gets` times at once (no key)."""
    started = time.perf_counter()
    async with session.post(f"{base_url}/v1/images/generations", data=generation_body(), headers=headers) as r:
        status, raw = r.status, await r.read()
    generate_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"images: gateway answered {status}: {raw[:300]!r}")
    urls = [item["url"] for item in orjson.loads(raw)["data"]]
    if len(urls) != IMAGES:
        raise RuntimeError(f"images: expected {IMAGES} urls, got {len(urls)}")

    async def get(url: str) -> tuple[float, int]:
        began = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"images: GET {url} answered {response.status}")
        return time.perf_counter() - began, len(body)

    started = time.perf_counter()
    timed = await asyncio.gather(*(get(urls[i % IMAGES]) for i in range(gets)))
    elapsed = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for seconds, _ in timed)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return ImagesRound(generate_ms, urls, gets / elapsed, p99, sum(size for _, size in timed))


async def images(bench: Bench) -> None:
    """Rounds of (n=4 generation, 200 concurrent GETs), with the gateway's peak memory over all of them."""
    if bench.gateway is None:
        return
    await bench.configure(latency_ms=0)
    gateway = endpoints.gateway(bench.gateway.port)
    headers = {**dict(gateway.headers), "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=CONCURRENT_GETS)
    rounds: list[ImagesRound] = []
    async with aiohttp.ClientSession(connector=connector) as session, RssSampler(bench.gateway.pid) as sampler:
        await bench.upstream_stats(reset=True)
        for _ in range(bench.plan.rounds):
            rounds.append(await one_round(session, gateway.base_url, headers))
        stats = await bench.upstream_stats()
    rec = bench.record
    rec.put("images.n4.generate_ms", [r.generate_ms for r in rounds])
    rec.put("images.get200.rps", [r.gets_rps for r in rounds])
    rec.put("images.get200.p99_ms", [r.get_p99_ms for r in rounds])
    rec.figures["images.upstream_max_inflight"] = Summary.single(stats["max_inflight"])
    rec.figures["rss.images_peak_mb"] = Summary.single(sampler.peak / MB)
    rec.details["images.bytes_served_per_round"] = statistics.median(r.bytes_served for r in rounds)

"""The images scenario: n=4 images through the gateway (four concurrent upstream calls, each answering
~512 kB of PNG), then 200 concurrent GETs of the hosted files; memory and GET throughput.

An image is held once, written once and served from disk with sendfile (app/pathsend.py), so what to watch
is how much the gateway's resident memory grows while it does so, next to the size of the images. The
scenario runs on a gateway process of its own, started fresh (the earlier scenarios' 1,000 open streams
leave ~100 MB resident in the shared one, which a peak would count). After one warm-up round (first-request
set-up is not an image's cost) each round measures, from the resident size when it begins:

- `rss.images_generate_growth_mb`: peak growth while the n=4 generation runs (the images are 4 x 512 kB);
- `rss.images_get_growth_mb`: peak growth during the 200 concurrent GETs (about nothing: no file byte
  enters Python).

Peaks are the kernel's high-water mark (`VmHWM`, reset through `/proc/<pid>/clear_refs`), so no short peak
falls between samples. `python -m bench --only images` runs this scenario alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from bench import endpoints
from bench.context import MB, Bench
from bench.procs import Service, rss_bytes, stop_process_group
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
    generate_growth: int  # bytes of peak resident growth while generating
    get_growth: int  # and while serving the GETs


class PeakMeter:
    """A process's peak resident size over a block, from the kernel's high-water mark."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _field(self, name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise OSError(f"no {name} in /proc/{self.pid}/status")

    def start(self) -> int:
        """Reset the high-water mark to the current resident size, and return that size."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        return self._field("VmHWM")

    def peak(self) -> int:
        return self._field("VmHWM")


def generation_body(n: int = IMAGES) -> bytes:
    return orjson.dumps({"model": IMAGE_MODEL, "prompt": "a lighthouse at dusk", "n": n, "size": "1024x1024"})


async def one_round(
    session: aiohttp.ClientSession, base_url: str, headers: dict[str, str], meter: PeakMeter, gets: int
) -> ImagesRound:
    """Generate IMAGES images, then fetch the hosted files `gets` times at once (no key)."""
    began = meter.start()
    started = time.perf_counter()
    async with session.post(f"{base_url}/v1/images/generations", data=generation_body(), headers=headers) as r:
        status, raw = r.status, await r.read()
    generate_ms = (time.perf_counter() - started) * 1000
    generate_growth = meter.peak() - began
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

    began_gets = meter.start()
    started = time.perf_counter()
    timed = await asyncio.gather(*(get(urls[i % IMAGES]) for i in range(gets)))
    elapsed = time.perf_counter() - started
    get_growth = meter.peak() - began_gets
    latencies = sorted(seconds * 1000 for seconds, _ in timed)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    served = sum(size for _, size in timed)
    return ImagesRound(generate_ms, urls, gets / elapsed, p99, served, generate_growth, get_growth)


@contextlib.asynccontextmanager
async def own_gateway(bench: Bench):  # type: ignore[no-untyped-def]
    """A fresh gateway process for this scenario when the bench can start one, else the shared one."""
    fresh: Service | None = await bench.start_gateway("gateway-images", {}) if bench.start_gateway else None
    try:
        yield fresh or bench.gateway
    finally:
        if fresh is not None:
            stop_process_group(fresh.popen)


async def images(bench: Bench) -> None:
    """A warm-up round, then rounds of (n=4 generation, 200 concurrent GETs) with their memory growth."""
    if bench.gateway is None:
        return
    await bench.configure(latency_ms=0)
    async with own_gateway(bench) as service:
        rec = bench.record
        rec.figures["rss.images_start_mb"] = Summary.single(rss_bytes(service.pid) / MB)
        gateway = endpoints.gateway(service.port)
        headers = {**dict(gateway.headers), "Content-Type": "application/json"}
        meter = PeakMeter(service.pid)
        connector = aiohttp.TCPConnector(limit=CONCURRENT_GETS)
        async with aiohttp.ClientSession(connector=connector) as session:
            warm = await one_round(session, gateway.base_url, headers, meter, CONCURRENT_GETS)
            await bench.upstream_stats(reset=True)
            rounds = [
                await one_round(session, gateway.base_url, headers, meter, CONCURRENT_GETS)
                for _ in range(bench.plan.rounds)
            ]
            stats = await bench.upstream_stats()
        rec.figures["rss.images_after_mb"] = Summary.single(rss_bytes(service.pid) / MB)
    rec.put("images.n4.generate_ms", [r.generate_ms for r in rounds])
    rec.put("images.get200.rps", [r.gets_rps for r in rounds])
    rec.put("images.get200.p99_ms", [r.get_p99_ms for r in rounds])
    rec.put("rss.images_generate_growth_mb", [r.generate_growth / MB for r in rounds])
    rec.put("rss.images_get_growth_mb", [r.get_growth / MB for r in rounds])
    rec.figures["images.upstream_max_inflight"] = Summary.single(stats["max_inflight"])
    image_bytes = rec.details["images.bytes_served_per_round"] = statistics.median(r.bytes_served for r in rounds)
    rec.details["images.bytes_per_generation"] = image_bytes * IMAGES // CONCURRENT_GETS
    rec.details["images.warmup_growth_mb"] = [round(warm.generate_growth / MB, 2), round(warm.get_growth / MB, 2)]

"""`python -m bench.studies.clients`: what one upstream POST costs with each HTTP client the gateway could use.

The figure behind the choice of `app/upstream/connection_pool.py`: the fake upstream on one core, this process on
the other, the same Workers AI chat POST sent with each client (the gateway's pool, aiohttp, httpx or httpx2), at
concurrency 1 and 16. CPU per request is this process's user + system time over the requests sent, so
it counts the client, the event loop and the JSON decode, nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import uvloop

from bench.endpoints import ACCOUNT, UPSTREAM_TOKEN
from bench.procs import Pinning, Processes, free_port, wait_healthy

PATH = f"/client/v4/accounts/{ACCOUNT}/ai/run/@cf/meta/llama-3.1-8b-instruct-fast"
BODY = orjson.dumps({"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 256})
HEADERS = {"Authorization": f"Bearer {UPSTREAM_TOKEN}", "Content-Type": "application/json"}
Post = Callable[[], Awaitable[object]]


async def pool_client(base: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    from app.upstream.connection_pool import ConnectionPool

    pool = ConnectionPool(base)

    async def post() -> object:
        return orjson.loads((await pool.request("POST", PATH, HEADERS, BODY, timeout=30)).body)

    return post, pool.close


async def aiohttp_client(base: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4096), trust_env=False)

    async def post() -> object:
        async with session.post(base + PATH, data=BODY, headers=HEADERS) as response:
            return orjson.loads(await response.read())

    return post, session.close


async def httpx_client(base: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    try:
        import httpx
    except ImportError:  # openai 3 ships pydantic's fork, httpx2, with the same API
        import httpx2 as httpx  # type: ignore[no-redef]

    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=4096), trust_env=False)

    async def post() -> object:
        return orjson.loads((await client.post(base + PATH, content=BODY, headers=HEADERS)).content)

    return post, client.aclose


CLIENTS = {"pool": pool_client, "aiohttp": aiohttp_client, "httpx": httpx_client}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(post: Post, concurrency: int, requests: int) -> tuple[float, float, float]:
    """(requests/s, CPU microseconds a request, p50 latency in ms)."""
    latencies: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await post()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(50) for _ in range(concurrency)))  # warm-up: connections, caches
    latencies.clear()
    wall, cpu = time.perf_counter(), cpu_seconds()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    latencies.sort()
    return len(latencies) / wall, cpu * 1e6 / len(latencies), latencies[len(latencies) // 2] * 1e3


async def run_all(base: str, names: list[str], requests: int) -> list[str]:
    rows = ["| client | c | req/s | CPU us/request | p50 ms |", "| --- | --- | --- | --- | --- |"]
    for name in names:
        post, close = await CLIENTS[name](base)
        for concurrency in (1, 16):
            rate, cpu, p50 = await measure(post, concurrency, requests if concurrency > 1 else requests // 4)
            rows.append(f"| {name} | {concurrency} | {rate:,.0f} | {cpu:.0f} | {p50:.3f} |")
        await close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.clients", description=__doc__)
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--clients", default="pool,aiohttp,httpx")
    args = parser.parse_args()
    pinning = Pinning.detect()
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as logs, Processes(Path(logs)) as procs:
        upstream = procs.start(
            "fake-upstream",
            [sys.executable, "-m", "bench.fake_upstream", "--port", str(port)],
            port=port,
            env=dict(os.environ),
            cwd=root,
            pinning=pinning,
            cpu=pinning.driver_cpu,
        )
        if pinning.gateway_cpu is not None:
            os.sched_setaffinity(0, {pinning.gateway_cpu})
        asyncio.run(wait_healthy(upstream, "/__bench/stats"))
        rows = uvloop.run(run_all(upstream.base_url, args.clients.split(","), args.requests))
    print("\n".join(rows))


if __name__ == "__main__":
    main()

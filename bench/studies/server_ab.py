"""A/B of the HTTP server protocol: uvicorn's plain httptools protocol against `app.server.GatewayProtocol`.

`bench.studies.instructions` runs the app in process, without uvicorn, so it cannot see the protocol's cost. This
starts the gateway twice (same settings, same emulator upstream), differing only in `Config.http`, and
drives each in interleaved rounds with the same bounded load on loopback; it reports the gateway
process's CPU time (utime + stime from /proc) per 1,000 requests and the client's p50 latency.

    .venv/bin/python -m bench.studies.server_ab [--requests 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp

from tests.servers import emulator, free_port, running

CHAT = b'{"model":"@cf/meta/llama-3.1-8b-instruct-fast","messages":[{"role":"user","content":"hi"}],"max_tokens":8}'
TICKS = os.sysconf("SC_CLK_TCK")


def serve(old: bool, port: int) -> None:
    import uvicorn

    from app.cli import gateway_config
    from app.config import Settings
    from app.main import create_app

    settings = Settings(port=port, log_level="warning")
    config = gateway_config(create_app(settings), settings)
    if old:
        config.http = "httptools"
    print(f"pid {os.getpid()}", flush=True)
    uvicorn.Server(config).run()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def load(url: str, path: str, requests: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession, count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            if path == "/health":
                async with session.get(url + path) as response:
                    await response.read()
            else:
                async with session.post(url + path, data=CHAT, headers=headers) as response:
                    await response.read()
            assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session, requests // concurrency) for _ in range(concurrency)))
    return latencies


LOADS = (("/health", 1), ("/v1/chat/completions", 1), ("/v1/chat/completions", 16))
Results = dict[tuple[str, int, str], list[tuple[float, float]]]


def one_side(side: str, env: dict[str, str], requests: int, results: Results) -> None:
    """Starts the gateway with one protocol and runs every load on it once."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.studies.server_ab", "--serve", side, "--port", str(port)]
    with running(argv, f"http://127.0.0.1:{port}/health", env) as log:
        pid = int(log.read_text().split("pid ", 1)[1].split()[0])
        url = f"http://127.0.0.1:{port}"
        asyncio.run(load(url, "/v1/chat/completions", 200, 4))  # warm-up
        for path, concurrency in LOADS:
            before = cpu_seconds(pid)
            latencies = asyncio.run(load(url, path, requests, concurrency))
            cpu_ms = (cpu_seconds(pid) - before) / len(latencies) * 1e6  # ms per 1,000 requests
            results.setdefault((path, concurrency, side), []).append((cpu_ms, statistics.median(latencies) * 1000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=["old", "new"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve == "old", args.port)
        return
    results: Results = {}
    with emulator(token="t") as upstream:
        env = {"CF_API_BASE": f"{upstream}/client/v4", "CF_ACCOUNT_ID": "a", "CF_API_TOKEN": "t"}
        env |= {"GATEWAY_API_KEYS": "k", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        env["RATE_LIMITS"] = '{"*": 1000000000}'  # the account pool's limits on, but never reached (as make bench)
        for _ in range(args.rounds):  # interleaved, so both sides see the same machine
            for side in ("old", "new"):
                one_side(side, env, args.requests, results)
    for (path, concurrency, side), runs in sorted(results.items()):
        cpus = ", ".join(f"{cpu:.0f}" for cpu, _ in runs)
        p50s = ", ".join(f"{p50:.2f}" for _, p50 in runs)
        print(f"{path:22} c={concurrency:<3} {side}: CPU ms/1000 requests [{cpus}]  p50 ms [{p50s}]")


if __name__ == "__main__":
    main()

"""The chat hot path with the shared state in Redis (REDIS_URL) against the in-process backend.

A real `redis-server` on a loopback port, on the driver's core (the gateway's core stays the gateway's;
in production Redis runs elsewhere), and a second gateway started with REDIS_URL; it and the bench's own
gateway (in-process state) are measured in alternating rounds, at c=1 (latency: what a round trip to
Redis adds) and c=16 (CPU per 1,000 requests), and each round of the Redis one also counts what Redis did:
its CPU, and the commands it ran (`INFO commandstats` before and after, commands run by scripts included).

Which of those a request sent on its own path is what the issue's "at most one round trip per request on
the hot path (pipelined or deferred)" is about. Commandstats cannot say: it also counts every command a Lua
script runs (the rate limiter's script runs seven). So a last, untimed round at c=16 reads Redis's MONITOR
feed, where a script's commands are marked `lua`, and sorts the clients' commands by key: the pool's
accounting (`usage:`, `keyuse:`, `account:` keys: counters merged and written every 0.1 s, other replicas'
read every 2 s) is off the request's path, `redis.background_per_request`; every other command is on it,
`redis.commands_per_request`, target <= 1. Skipped, with a note, when `redis-server` is not installed.
`python -m bench --only redis` runs this scenario alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import math
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass

from bench import endpoints
from bench.context import Bench
from bench.drivers import LoadResult
from bench.endpoints import Endpoint
from bench.procs import CpuMeter, Service, free_port, stop_process_group
from bench.stats import Summary, paired_differences

CONCURRENCIES = (1, 16)
SKIPPED = "redis-server is not installed (apt-get install redis-server): the Redis scenario did not run"


@dataclass(frozen=True)
class RedisRound:
    result: LoadResult
    gateway_cpu_s: float
    redis_cpu_s: float  # nan on the in-process side
    redis_commands: int  # commandstats calls over the round, scripts' commands included (0: in-process side)

    def per_1k(self, value: float) -> float:
        return value * 1e6 / self.result.requests if self.result.requests else math.nan


async def redis_backend(bench: Bench) -> None:
    if bench.gateway is None or bench.start_gateway is None or bench.start_process is None:
        return
    binary = shutil.which("redis-server")
    if binary is None:
        bench.record.details["redis.skipped"] = SKIPPED
        print(f"skipped: {SKIPPED} ...", end=" ", flush=True)
        return
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", tempfile.mkdtemp(prefix="bench-redis-")]
    server = bench.start_process("redis", argv, port)
    gateway: Service | None = None
    try:
        await _wait_for_redis(server)
        gateway = await bench.start_gateway("gateway-redis", {"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        if gateway is None:
            raise RuntimeError("the gateway with REDIS_URL did not start")
        await _measure(bench, server, gateway)
    finally:
        if gateway is not None:
            stop_process_group(gateway.popen)
        stop_process_group(server.popen)


async def _measure(bench: Bench, server: Service, redis_gateway: Service) -> None:
    plan, rec = bench.plan, bench.record
    assert bench.gateway is not None
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
    memory = endpoints.gateway(bench.gateway.port)
    shared = dataclasses.replace(endpoints.gateway(redis_gateway.port), name="redis")
    pids = {memory.name: bench.gateway.pid, shared.name: redis_gateway.pid}
    for concurrency in CONCURRENCIES:
        for side in (memory, shared):
            await bench.driver.run(side.chat(), connections=concurrency, duration=plan.warmup)
        rounds: dict[str, list[RedisRound]] = {memory.name: [], shared.name: []}
        for index in range(plan.rounds):
            for side in bench.ordered(index, [memory, shared]):
                with_redis = server if side is shared else None
                run = functools.partial(_round, bench, side, pids[side.name], with_redis, concurrency)
                rounds[side.name].append(await bench.steady(f"redis.c{concurrency} round {index}", side, run))
        _record(bench, f"redis.c{concurrency}", rounds[memory.name], rounds[shared.name])
    seen, requests = await _count_sent(bench, server, shared)
    per_request = {kind: seen[kind] / requests if requests else math.nan for kind in ("path", "background")}
    rec.figures["redis.commands_per_request"] = Summary.single(per_request["path"])
    rec.figures["redis.background_per_request"] = Summary.single(per_request["background"])
    rec.details["redis.monitor"] = {"requests": requests, **{str(kind): n for kind, n in seen.items()}}


async def _round(bench: Bench, side: Endpoint, pid: int, server: Service | None, concurrency: int) -> RedisRound:
    gateway_cpu = CpuMeter(pid)
    redis_cpu = CpuMeter(server.pid) if server is not None else None
    before = await _commands(server) if server is not None else 0
    result = await bench.driver.run(side.chat(), connections=concurrency, duration=bench.plan.duration)
    gateway_s = gateway_cpu.stop()
    redis_s = redis_cpu.stop() if redis_cpu is not None else math.nan
    after = await _commands(server) if server is not None else 0
    bench.record.errors["gateway"] += result.errors
    return RedisRound(result, gateway_s, redis_s, max(0, after - before - 1))  # the INFO itself


def _record(bench: Bench, prefix: str, memory: list[RedisRound], shared: list[RedisRound]) -> None:
    rec = bench.record
    for name, runs in (("memory", memory), ("redis", shared)):
        rec.put(f"{prefix}.{name}.rps", [r.result.rps for r in runs])
        rec.put(f"{prefix}.{name}.p50_ms", [r.result.p50_ms for r in runs])
        rec.put(f"{prefix}.{name}.p99_ms", [r.result.p99_ms for r in runs])
        rec.put(f"{prefix}.{name}.cpu_ms_per_1k", [r.per_1k(r.gateway_cpu_s) for r in runs])
        rec.details[f"{prefix}.{name}"] = [dataclasses.asdict(r) for r in runs]
    rec.put(
        f"{prefix}.added_p50_ms",
        paired_differences([r.result.p50_ms for r in shared], [r.result.p50_ms for r in memory]),
    )
    rec.put(
        f"{prefix}.added_p99_ms",
        paired_differences([r.result.p99_ms for r in shared], [r.result.p99_ms for r in memory]),
    )
    rec.put(
        f"{prefix}.added_cpu_ms_per_1k",
        paired_differences([r.per_1k(r.gateway_cpu_s) for r in shared], [r.per_1k(r.gateway_cpu_s) for r in memory]),
    )
    rec.put(f"{prefix}.server_cpu_ms_per_1k", [r.per_1k(r.redis_cpu_s) for r in shared])
    rec.put(
        f"{prefix}.executed_per_request", [r.redis_commands / r.result.requests for r in shared if r.result.requests]
    )


# --- talking to Redis (RESP over a raw socket: the bench needs three commands) ---------------------------


async def _wait_for_redis(server: Service, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise RuntimeError(f"redis-server exited with {server.popen.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            if (await _command(server, "PING")).startswith(b"+PONG"):
                return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on port {server.port}:\n{server.log_tail()}")


async def _command(server: Service, *words: str) -> bytes:
    """One command on a fresh connection; the whole reply (a bulk string is read to its end)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(_resp(words))
        first = await reader.readline()
        if not first.startswith(b"$"):
            return first
        size = int(first[1:])
        return first + (await reader.readexactly(size + 2) if size >= 0 else b"")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _resp(words: tuple[str, ...]) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def _commands(server: Service) -> int:
    """Every command Redis has run since it started (`INFO commandstats`, scripts' commands included)."""
    return commandstats_calls((await _command(server, "INFO", "commandstats")).decode())


def commandstats_calls(info: str) -> int:
    """The sum of `calls=` over the `cmdstat_*` lines of an `INFO commandstats` reply."""
    total = 0
    for line in info.splitlines():
        if line.startswith("cmdstat_"):
            fields = dict(item.split("=", 1) for item in line.split(":", 1)[1].split(","))
            total += int(fields["calls"])
    return total


# The keys of the pool's accounting, which is off the request's path: counters merged and written every
# 0.1 s, and the other replicas' counters and account states read every 2 s (app/accounts/ledger.py, today.py).
BACKGROUND = (b'"wag:usage:', b'"wag:keyuse:', b'"wag:account:')


def classify(line: bytes) -> str | None:
    """A MONITOR line: "script" (a command a Lua script ran: `[db lua]`), "background" (a client command on
    the accounting's keys), "path" (any other client command: the request's own), None (not a command)."""
    start = line.find(b"[")
    end = line.find(b"]", start)
    if start < 0 or end < start:
        return None
    if line[start + 1 : end].endswith(b"lua"):
        return "script"
    return "background" if any(key in line for key in BACKGROUND) else "path"


async def _count_sent(bench: Bench, server: Service, side: Endpoint) -> tuple[Counter[str | None], int]:
    """What Redis's MONITOR showed during an untimed round at c=16, by `classify`; and the requests the
    gateway answered meanwhile."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=1 << 20)
    seen: Counter[str | None] = Counter()

    async def read() -> None:
        while line := await reader.readline():
            seen[classify(line)] += 1

    try:
        writer.write(_resp(("MONITOR",)))
        if not (await reader.readline()).startswith(b"+OK"):
            raise RuntimeError("redis-server refused MONITOR")
        task = asyncio.ensure_future(read())
        before = await _answered(bench, side)
        result = await bench.driver.run(side.chat(), connections=16, duration=max(1.0, bench.plan.duration / 2))
        await asyncio.sleep(0.5)  # the counters of the last answers are written just after them
        answered = await _answered(bench, side) - before
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    bench.record.errors["gateway"] += result.errors
    return seen, answered


async def _answered(bench: Bench, side: Endpoint) -> int:
    """Requests the gateway has answered (its /metrics): the driver does not count those it cut at the end."""
    async with bench.session.get(side.base_url + "/metrics") as response:
        text = await response.text()
    return round(
        sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("gateway_requests_total{"))
    )

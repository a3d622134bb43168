"""What every scenario shares: the plan (how long, how often), the record of figures, the bench."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bench import endpoints
from bench.drivers import Driver
from bench.endpoints import Endpoint
from bench.procs import Pinning, Service, StealMeter, Stolen
from bench.stats import Summary
from bench.stream_client import StreamClient

MB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """How long and how often; `quick()` is the smoke-test variant."""

    rounds: int = 3
    duration: float = 3.0
    warmup: float = 1.0
    concurrencies: tuple[int, ...] = (1, 16, 64)
    chunks: int = 20
    # The Responses rounds take the per-chunk figure from 200- minus 1-chunk streams: a chunk's few
    # microseconds against 20-chunk streams' 450 were a difference of two near-equal figures, whose ratio
    # to chat's spread from 0.2x to 1.4x within one run; more rounds too, as the ratios are the targets.
    long_chunks: int = 200
    responses_rounds: int = 5
    # Whole answers: more and shorter pairs, so that the machine's speed drifts less within a pair and the
    # median has more pairs to stand on. One run's 5 pairs of 3 s spread 0.87x-1.27x while the speed probe
    # went from 111 to 245 us; 10 pairs of 1.5 s gave medians of 1.16x and 1.08x in two runs minutes apart.
    responses_whole_pairs: int = 20
    responses_whole_s: float = 1.5
    stream_concurrency: int = 16
    max_sequential_streams: int = 3000
    gap_delay_ms: float = 10.0
    embed_inputs: int = 1000
    embed_latency_ms: float = 50.0
    embed_calls: int = 5
    burst_streams: int = 1000
    burst_chunk_delay_ms: float = 150.0  # 20 chunks: each stream held ~3 s, longer than opening 1,000 takes
    max_steal_pct: float = 1.0  # a round in which the hypervisor took more of a busy core is measured again,
    round_attempts: int = 3  # up to this many times in all,
    rerun_budget_s: float = 90.0  # while the extra attempts so far took less than this

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            rounds=1,
            duration=1.0,
            warmup=0.5,
            embed_calls=2,
            rerun_budget_s=0.0,
            responses_rounds=1,
            responses_whole_pairs=1,
            responses_whole_s=1.0,
        )


@dataclass
class Record:
    figures: dict[str, Summary] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=lambda: {"direct": 0, "gateway": 0, "floor": 0})
    problems: list[str] = field(default_factory=list)
    steal: list[dict[str, Any]] = field(default_factory=list)  # every timed round: kept or measured again

    def put(self, key: str, rounds: list[float]) -> None:
        self.figures[key] = Summary.of(rounds)


@dataclass
class Bench:
    """Everything a scenario needs: the plan, the driver, both sides, an HTTP session for control calls and
    embeddings, and the SSE client that times streams."""

    plan: Plan
    driver: Driver
    pinning: Pinning
    upstream: Service
    gateway: Service | None
    session: aiohttp.ClientSession
    streams: StreamClient
    record: Record = field(default_factory=Record)
    rss_load_peak: int = 0
    floor: Service | None = None  # bench/null_proxy.py: the gateway's server and pool, passing bytes through
    stat: Path = Path("/proc/stat")
    rerun_spent_s: float = 0.0
    # A fresh gateway (bench/images.py), with settings added to the bench's (bench/shared_state.py: REDIS_URL).
    start_gateway: Callable[[str, dict[str, str]], Awaitable[Service | None]] | None = None
    # Another server on the driver's core, stopped with the others at the end: (name, argv, port) -> Service.
    start_process: Callable[[str, list[str], int], Service] | None = None
    # Further gateways timed as sides of their own, by endpoint name (bench/ab.py: "old", REF's gateway).
    others: dict[str, Service] = field(default_factory=dict)

    @property
    def direct(self) -> Endpoint:
        return endpoints.direct(self.upstream.port)

    @property
    def sides(self) -> list[Endpoint]:
        sides = [self.direct]
        if self.gateway is not None:
            sides.append(endpoints.gateway(self.gateway.port))
        return sides

    def ordered(self, round_index: int, sides: list[Endpoint] | None = None) -> list[Endpoint]:
        """Alternate which side goes first so slow drift does not favour one of them."""
        sides = self.sides if sides is None else sides
        return sides if round_index % 2 == 0 else sides[::-1]

    @property
    def sides_and_floor(self) -> list[Endpoint]:
        """`sides`, and the pass-through proxy when it runs, spoken to like the upstream itself (same path,
        body and token)."""
        if self.floor is None:
            return self.sides
        return [*self.sides, dataclasses.replace(endpoints.direct(self.floor.port), name="floor")]

    @property
    def pids(self) -> list[int]:
        """The benchmark's long-running children (the load driver is counted as our own child)."""
        services = (self.upstream, self.gateway, self.floor, *self.others.values())
        return [service.pid for service in services if service is not None]

    def pid_of(self, side: Endpoint) -> int | None:
        """The process whose CPU a round of `side` is metered in: the gateway's or the pass-through proxy's
        (its CPU per request is the floor the gateway's is gated against); None for the fake upstream."""
        service = {"gateway": self.gateway, "floor": self.floor, **self.others}.get(side.name)
        return service.pid if service is not None else None

    def cores_of(self, side: Endpoint) -> list[int] | None:
        """The cores a round of `side` keeps busy: the driver's, and the gateway's unless the side is the fake
        upstream alone (None: not pinned, so any)."""
        if self.pinning.driver_cpu is None or self.pinning.gateway_cpu is None:
            return None
        if side.name == "direct":
            return [self.pinning.driver_cpu]
        return [self.pinning.driver_cpu, self.pinning.gateway_cpu]

    async def steady(self, what: str, side: Endpoint, measure: Callable[[], Awaitable[T]]) -> T:
        """One timed round of `side`, measured again when the hypervisor took more than `plan.max_steal_pct`
        of a core the round kept busy (steal time): such a round timed the host, not the gateway. A virtual
        machine's host takes its CPU in bursts of seconds while other guests are busy, so the round is
        repeated at once, up to `plan.round_attempts` times in all and while the extra attempts stay within
        `plan.rerun_budget_s`. The first attempt within the limit is kept, else the one the host took least
        from; which one never depends on what it measured. Every attempt is recorded."""
        attempts: list[tuple[Stolen, T, dict[str, Any]]] = []
        while True:
            meter = StealMeter(self.cores_of(side), self.stat)
            result = await measure()
            stolen = meter.stop()
            entry = {
                "round": what,
                "side": side.name,
                "steal_pct": round(stolen.pct, 2),
                "core": stolen.core,
                "wall_s": round(stolen.wall_s, 2),
                "over_limit": stolen.exceeds(self.plan.max_steal_pct),
                "kept": False,
                "result": dataclasses.asdict(result) if dataclasses.is_dataclass(result) else None,
            }
            attempts.append((stolen, result, entry))
            self.record.steal.append(entry)
            if not entry["over_limit"] or len(attempts) >= self.plan.round_attempts:
                break
            if self.rerun_spent_s + stolen.wall_s > self.plan.rerun_budget_s:
                break
            self.rerun_spent_s += stolen.wall_s
        _, kept, entry = min(attempts, key=lambda attempt: (attempt[2]["over_limit"], attempt[0].pct))
        entry["kept"] = True
        return kept

    async def configure(self, **knobs: float) -> None:
        async with self.session.post(self.upstream.base_url + "/__bench/config", json=knobs) as resp:
            resp.raise_for_status()

    async def upstream_stats(self, reset: bool = False) -> dict[str, int]:
        if reset:
            async with self.session.post(self.upstream.base_url + "/__bench/reset") as resp:
                resp.raise_for_status()
        async with self.session.get(self.upstream.base_url + "/__bench/stats") as resp:
            stats: dict[str, int] = await resp.json()
            return stats

"""The response cache (docs/cache.md): a cached chat answer and a cached embedding against the same request
made through Workers AI, in alternating rounds at concurrency 16: gateway CPU a request and requests a
second, each taken as a ratio round by round.

The cached side sends the same deterministic request (`temperature: 0`; embeddings are always cached), so
every request after the first is a hit; the uncached side sends the very same body with `Cache-Control:
no-store`, so it is converted, sent to the fake upstream and answered as any uncached request is. The
ratios (cached over uncached) are taken by `report.py`, round by round.
"""

from __future__ import annotations

import functools

import orjson

from bench import endpoints
from bench.context import Bench
from bench.drivers import Request
from bench.endpoints import Endpoint
from bench.load import LoadRound, _load_round
from bench.stats import Summary

CHAT = {"model": endpoints.CHAT_MODEL, "messages": endpoints.MESSAGES, "temperature": 0}
EMBED = {"model": endpoints.EMBED_MODEL, "input": endpoints.embedding_inputs(10)}
NO_STORE = (("Cache-Control", "no-store"),)


def requests_of(gateway: Endpoint) -> dict[str, tuple[Request, Request]]:
    """Per kind, (cached, uncached): the same body, the second with `Cache-Control: no-store`."""
    port, headers = gateway.port, gateway.headers
    kinds = {"chat": (gateway.chat_path, CHAT), "embed": (gateway.embed_path, EMBED)}
    return {
        kind: (
            Request(port, path, orjson.dumps(body), headers),
            Request(port, path, orjson.dumps(body), headers + NO_STORE),
        )
        for kind, (path, body) in kinds.items()
    }


async def _round(bench: Bench, what: str, side: Endpoint, request: Request) -> LoadRound:
    run = functools.partial(_load_round, bench, side, request, bench.plan.stream_concurrency, track_rss=False)
    measured: LoadRound = await bench.steady(what, side, run)
    return measured


async def response_cache(bench: Bench) -> None:
    if bench.gateway is None:
        return
    plan, rec = bench.plan, bench.record
    gateway = endpoints.gateway(bench.gateway.port)
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
    for kind, (cached, uncached) in requests_of(gateway).items():
        for request in (cached, uncached):
            await bench.driver.run(request, connections=plan.stream_concurrency, duration=plan.warmup)
        await bench.upstream_stats(reset=True)  # warm: from here on every cached request is a hit
        rounds: dict[str, list[LoadRound]] = {"cached": [], "uncached": []}
        for round_index in range(plan.rounds):
            order = [("cached", cached), ("uncached", uncached)]
            for name, request in order if round_index % 2 == 0 else order[::-1]:
                rounds[name].append(await _round(bench, f"cache.{kind}.{name} round {round_index}", gateway, request))
                if round_index == 0 and name == "cached":  # the first round, cached first: no call may reach upstream
                    calls = (await bench.upstream_stats())["requests"]
                    rec.figures[f"cache.{kind}.hit_upstream_calls"] = Summary.single(calls)
        for name, runs in rounds.items():
            rec.put(f"cache.{kind}.{name}.rps", [r.result.rps for r in runs])
            rec.put(f"cache.{kind}.{name}.cpu_us_per_request", [r.per_1k_ms(r.gateway_cpu_s) for r in runs])

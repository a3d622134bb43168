"""The Responses API against chat completions, in the same rounds: gateway CPU per request (whole answers)
and per streamed chunk (200-chunk minus 1-chunk streams, over 199), each at concurrency 16.

The issue's target is relative: a Responses request may cost chat's CPU plus 15%, and so may a streamed
chunk. The machine's speed drifts by tens of percent within minutes, so the two are measured in
alternating rounds and the ratio is taken round by round: whole answers in `Plan.responses_whole_pairs`
pairs of short rounds (`responses_whole_s`), streams in `Plan.responses_rounds` rounds. A chunk costs
a few microseconds, so its figure comes from long streams (`Plan.long_chunks`): from 20-chunk streams it
was the difference of two near-equal figures, and its ratio spread from 0.2x to 1.4x within one run.
The requests are what the SDKs send: `input` as a string and no `store` (the default, so every answer is
stored, as in production).
"""

from __future__ import annotations

import dataclasses
import functools

import orjson

from bench import endpoints
from bench.context import Bench
from bench.drivers import Request
from bench.endpoints import Endpoint
from bench.load import LoadRound, _load_round
from bench.stats import paired_differences

BODY = {"model": endpoints.CHAT_MODEL, "input": endpoints.MESSAGES[0]["content"]}


def responses_endpoint(gateway: Endpoint) -> Endpoint:
    """The gateway side, asked through POST /v1/responses (same model, same text)."""
    return dataclasses.replace(
        gateway,
        chat_path="/v1/responses",
        chat_body=orjson.dumps(BODY),
        stream_body=orjson.dumps({**BODY, "stream": True}),
    )


async def _round(bench: Bench, what: str, side: Endpoint, request: Request, duration: float = 0) -> float:
    """Gateway CPU in microseconds a request over one metered round (`duration` seconds, else the plan's)."""
    concurrency = bench.plan.stream_concurrency
    run = functools.partial(_load_round, bench, side, request, concurrency, track_rss=False, duration=duration)
    measured: LoadRound = await bench.steady(what, side, run)
    return measured.per_1k_ms(measured.gateway_cpu_s)


async def responses_api(bench: Bench) -> None:
    if bench.gateway is None:
        return
    plan, rec = bench.plan, bench.record
    chat = endpoints.gateway(bench.gateway.port)
    sides = {"chat": chat, "responses": responses_endpoint(chat)}
    await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
    for side in sides.values():
        for request in (side.chat(), side.stream()):
            await bench.driver.run(request, connections=plan.stream_concurrency, duration=plan.warmup)
    whole: dict[str, list[float]] = {name: [] for name in sides}
    full: dict[str, list[float]] = {name: [] for name in sides}
    single: dict[str, list[float]] = {name: [] for name in sides}
    try:
        await bench.configure(chunks=plan.chunks)
        for index in range(plan.responses_whole_pairs):
            for name in list(sides) if index % 2 == 0 else list(sides)[::-1]:
                what, request = f"responses.{name} round {index}", sides[name].chat()
                whole[name].append(await _round(bench, what, sides[name], request, plan.responses_whole_s))
        for index in range(plan.responses_rounds):
            names = list(sides) if index % 2 == 0 else list(sides)[::-1]
            for name in names:
                stream = sides[name].stream()
                await bench.configure(chunks=plan.long_chunks)
                full[name].append(await _round(bench, f"responses.{name} stream round {index}", sides[name], stream))
                await bench.configure(chunks=1)
                single[name].append(await _round(bench, f"responses.{name} 1-chunk round {index}", sides[name], stream))
    finally:
        await bench.configure(chunks=plan.chunks)
    extra = plan.long_chunks - 1
    chunk = {name: [d / extra for d in paired_differences(full[name], single[name])] for name in sides}
    for name in sides:
        rec.put(f"responses.{name}.cpu_us_per_request", whole[name])
        rec.put(f"responses.{name}.cpu_us_per_stream", full[name])
        rec.put(f"responses.{name}.cpu_us_per_chunk", chunk[name])
    rec.put("responses.whole_over_chat", [r / c for r, c in zip(whole["responses"], whole["chat"], strict=True)])
    rec.put("responses.chunk_over_chat", [r / c for r, c in zip(chunk["responses"], chunk["chat"], strict=True)])

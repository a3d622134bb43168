"""Translation: a page of 200 paragraphs sent as 200 concurrent DeepLX requests (as Immersive Translate
does), uncached then cached; cached throughput at 200 connections; and the CPU the detector and the
Traditional-Chinese converter cost a paragraph (in this process: `python -m bench.translation` prints it).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Callable

import orjson

from bench import endpoints
from bench.context import Bench
from bench.drivers import Request
from bench.machine import reference_work
from bench.sentences import SENTENCES
from bench.stats import Summary

PAGE = 200
JSON = (("Content-Type", "application/json"),)


def page(nonce: str) -> list[bytes]:
    """200 distinct paragraphs in the supported languages (not Chinese: the target), as DeepLX bodies."""
    sentences = itertools.cycle([s for language, group in SENTENCES.items() if language != "zh" for s in group])
    return [
        orjson.dumps({"text": f"{next(sentences)} ({nonce}-{i})", "source_lang": "auto", "target_lang": "ZH"})
        for i in range(PAGE)
    ]


async def translation_page(bench: Bench) -> None:
    if bench.gateway is None:
        return
    await bench.configure(latency_ms=0)
    port = bench.gateway.port
    path = f"/translate?token={endpoints.GATEWAY_KEY}"
    bodies = page(str(time.time_ns()))
    # The detector loads on first use (~0.5 s): one request first, so the page times translation only.
    await _send_page(bench, f"http://127.0.0.1:{port}{path}", page(f"warm-up {time.time_ns()}")[:1])
    for label in ("uncached", "cached"):
        await bench.upstream_stats(reset=True)
        started = time.perf_counter()
        failed = await _send_page(bench, f"http://127.0.0.1:{port}{path}", bodies)
        bench.record.figures[f"translate.page.{label}_ms"] = Summary.single((time.perf_counter() - started) * 1000)
        bench.record.figures[f"translate.page.{label}_upstream_calls"] = Summary.single(
            (await bench.upstream_stats())["requests"]
        )
        bench.record.errors["gateway"] += failed
        bench.record.figures[f"translate.page.{label}_failed"] = Summary.single(failed)
    request = Request(port, path, bodies[0], JSON)
    side = endpoints.gateway(port)
    rps: list[float] = []
    for round_index in range(bench.plan.rounds):
        run = functools.partial(bench.driver.run, request, connections=PAGE, duration=bench.plan.duration)
        result = await bench.steady(f"translate.cached round {round_index}", side, run)
        bench.record.errors["gateway"] += result.errors
        rps.append(result.rps)
    bench.record.put("translate.cached.rps", rps)
    _detector_and_converter(bench)


def _detector_and_converter(bench: Bench) -> None:
    """Their CPU a paragraph, each round between two runs of the speed probe in this process (same core, same
    moment): the gate is the ratio of the two, which a slower machine does not move."""
    detect, convert, probe = [], [], []
    for _ in range(bench.plan.rounds):
        before = reference_work()
        detect_us, convert_us = detector_and_converter_us(0.5)
        probe.append((before + reference_work()) / 2)
        detect.append(detect_us)
        convert.append(convert_us)
    bench.record.put("translate.detect_us", detect)
    bench.record.put("translate.convert_us", convert)
    bench.record.put("translate.detect_convert_us", [d + c for d, c in zip(detect, convert, strict=True)])
    bench.record.put("translate.probe_us", probe)


async def _send_page(bench: Bench, url: str, bodies: list[bytes]) -> int:
    """All paragraphs at once; how many did not come back as a 200 DeepLX answer."""

    async def one(body: bytes) -> bool:
        async with bench.session.post(url, data=body, headers=dict(JSON)) as response:
            return response.status == 200 and orjson.loads(await response.read()).get("code") == 200

    answers = await asyncio.gather(*(one(body) for body in bodies), return_exceptions=True)
    return sum(answer is not True for answer in answers)


def detector_and_converter_us(seconds: float = 1.0) -> tuple[float, float]:
    """CPU microseconds a paragraph: detection over every sample sentence; conversion (s2twp) over the
    Chinese ones (each repeated 3x: about what m2m100 answers for a paragraph)."""
    from app.convert.languages import Detector, Script

    detector, script = Detector(), Script("s2twp")
    paragraphs = [s for group in SENTENCES.values() for s in group]
    chinese = [s * 3 for s in SENTENCES["zh"]]
    detect = _cpu_us(detector.detect, paragraphs, seconds)
    return detect, _cpu_us(script.convert, chinese, seconds)


def _cpu_us(work: Callable[[str], object], items: list[str], seconds: float) -> float:
    for item in items:
        work(item)
    done = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for item in items:
            work(item)
        done += len(items)
    return (time.process_time() - started) / done * 1e6


if __name__ == "__main__":
    detect_us, convert_us = detector_and_converter_us(2.0)
    print(f"detector {detect_us:.1f} us, converter {convert_us:.1f} us, together {detect_us + convert_us:.1f} us")

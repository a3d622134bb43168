"""Translation's pure parts: language codes, the cut into segments, the cache and the coalescer."""

from __future__ import annotations

import asyncio

import pytest

from app.cache import Coalescer, MemoryCache
from app.convert.languages import Script, Target, parse_source, parse_target
from app.convert.translate import plan
from app.errors import InvalidRequest


@pytest.mark.parametrize(
    ("code", "target"),
    [
        ("ZH", Target("zh")),
        ("zh-hans", Target("zh")),
        ("ZH-HANT", Target("zh", "s2twp")),
        ("zh_TW", Target("zh", "s2twp")),
        ("zh-HK", Target("zh", "s2hk")),
        ("EN-US", Target("en")),
        ("pt-PT", Target("pt")),
        ("NB", Target("no")),
        (" de ", Target("de")),
    ],
)
def test_targets(code: str, target: Target) -> None:
    assert parse_target(code) == target


@pytest.mark.parametrize("code", ["XX", "en-XX", "zh-latn", "", None, 3])
def test_bad_targets_name_the_parameter(code: object) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_target(code)
    assert raised.value.param == "target_lang"


def test_sources() -> None:
    assert [parse_source(v) for v in (None, "", "AUTO", "auto", "EN", "pt-br", "nb")] == [None] * 4 + ["en", "pt", "no"]
    with pytest.raises(InvalidRequest, match="'tlh'"):
        parse_source("tlh")


def test_traditional_conversion_uses_taiwan_vocabulary() -> None:
    assert Script("s2twp").convert("软件和头发") == "軟體和頭髮"
    assert Script("s2hk").convert("软件") == "軟件"


def test_plan_keeps_everything_but_the_words() -> None:
    text = "\n  <p>Hello <b>you</b></p>  \n\n123 %\n{{name}}: welcome!\n"
    pieces = plan(text, 400)
    assert pieces.segments == ["Hello <b>you", ": welcome!"]
    assert pieces.join(["A", "B"]) == "\n  <p>A</b></p>  \n\n123 %\n{{name}}B\n"


def test_plan_cuts_long_lines_at_sentences_then_spaces() -> None:
    line = "One two three. " * 10 + "x" * 50
    pieces = plan(line, 60)
    assert all(len(s) <= 60 for s in pieces.segments)
    assert pieces.join(pieces.segments) == line
    cjk = "这是一个很长的句子。" * 20
    assert plan(cjk, 45).join(plan(cjk, 45).segments) == cjk and len(plan(cjk, 45).segments) == 5
    unbroken = "y" * 130
    assert [len(s) for s in plan(unbroken, 60).segments] == [60, 60, 10]


def test_memory_cache_is_bounded_and_ages(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        cache = MemoryCache(2, ttl=10)
        now = [100.0]
        monkeypatch.setattr("app.cache.memory.time.monotonic", lambda: now[0])
        a, b, c = (("m", "en", "de", t) for t in "abc")
        await cache.set(a, "A")
        await cache.set(b, "B")
        assert await cache.get(a) == "A"  # a is now the most recent
        await cache.set(c, "C")
        assert (await cache.get(b), await cache.get(a), await cache.get(c)) == (None, "A", "C")
        now[0] += 11
        assert await cache.get(a) is None and len(cache) == 1
        off = MemoryCache(0, ttl=10)
        await off.set(a, "A")
        assert await off.get(a) is None

    asyncio.run(scenario())


def test_coalescer_runs_once_shares_errors_and_survives_a_cancelled_waiter() -> None:
    async def scenario() -> None:
        coalescer: Coalescer[str, str] = Coalescer()
        calls = 0

        async def work() -> str:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return "done"

        waiters = [asyncio.ensure_future(coalescer.run("k", work)) for _ in range(5)]
        await asyncio.sleep(0.01)
        waiters[0].cancel()
        assert await asyncio.gather(*waiters[1:]) == ["done"] * 4
        assert calls == 1 and len(coalescer) == 0

        async def fail() -> str:
            await asyncio.sleep(0.01)
            raise InvalidRequest("boom")

        results = await asyncio.gather(*(coalescer.run("e", fail) for _ in range(3)), return_exceptions=True)
        assert [str(r) for r in results] == ["boom"] * 3
        assert await coalescer.run("k", work) == "done" and calls == 2  # finished runs are not reused

    asyncio.run(scenario())

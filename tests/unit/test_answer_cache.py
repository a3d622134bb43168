"""The response cache's pieces as plain calls: the client's Cache-Control, which calls are cached, the key,
the entry format and the memory tier's byte bound."""

from __future__ import annotations

import asyncio

import pytest

from app.cache import MemoryCache
from app.cache.answers import EVENTS, Entry, answer_key
from app.catalog import Model, Task
from app.serving.cached import Directives, cacheable

TEXT = Model("@cf/meta/llama-3.1-8b-instruct-fast", Task.TEXT_GENERATION)
EMBED = Model("@cf/baai/bge-small-en-v1.5", Task.TEXT_EMBEDDINGS)
IMAGE = Model("@cf/stabilityai/stable-diffusion-xl-base-1.0", Task.TEXT_TO_IMAGE)
SPEECH = Model("@cf/openai/whisper", Task.SPEECH_RECOGNITION)


@pytest.mark.parametrize(
    ("header", "read", "write", "asks"),
    [
        (None, True, True, False),
        ("no-store", False, False, False),
        ("no-cache", False, True, False),
        ("max-age=0", False, True, False),
        ("max-age=600", True, True, True),
        ("No-Cache, max-age=60", False, True, True),
        ("max-age=soon", True, True, False),
    ],
)
def test_cache_control_directives(header: str | None, read: bool, write: bool, asks: bool) -> None:
    directives = Directives(header)
    assert (directives.read, directives.write, directives.asks) == (read, write, asks)


def test_what_each_policy_caches() -> None:
    zero, sampled = {"messages": [], "temperature": 0}, {"messages": [], "temperature": 0.7}
    assert cacheable(EMBED, {"text": ["a"]}, "deterministic", False, 1)
    assert cacheable(TEXT, zero, "deterministic", False, 1)
    assert not cacheable(TEXT, sampled, "deterministic", False, 1)
    assert not cacheable(TEXT, {"messages": []}, "deterministic", False, 1)  # Workers AI's default samples
    assert cacheable(TEXT, sampled, "deterministic", True, 1)  # the client asks
    assert cacheable(TEXT, sampled, "all", False, 1)
    assert not cacheable(TEXT, sampled, "all", False, 2)  # n sampled choices must differ
    assert cacheable(TEXT, zero, "deterministic", False, 2)
    assert cacheable(IMAGE, {"prompt": "x", "seed": 3}, "deterministic", False, 1)
    assert not cacheable(IMAGE, {"prompt": "x"}, "deterministic", False, 1)
    assert not cacheable(IMAGE, b"multipart", "all", False, 1)
    assert not cacheable(SPEECH, {"audio": []}, "all", False, 1)
    assert not cacheable(EMBED, {"text": ["a"]}, "off", False, 1)


def test_the_key_ignores_stream_and_field_order_and_hides_the_prompt() -> None:
    one = answer_key(TEXT.id, {"messages": [{"content": "secret"}], "temperature": 0, "stream": True}, "")
    two = answer_key(TEXT.id, {"temperature": 0, "messages": [{"content": "secret"}]}, "")
    assert one == two and "secret" not in one and len(one) == 64
    assert answer_key(TEXT.id, {"temperature": 0, "messages": [{"content": "secret"}]}, "tenant") != one
    assert answer_key(EMBED.id, {"temperature": 0, "messages": [{"content": "secret"}]}, "") != one


def test_an_entry_survives_its_encoding() -> None:
    events = [[b'{"response":"Hi"}'], [b'{"response":"!","usage":{"prompt_tokens":3}}', b"[DONE]"]]
    entry = Entry.decode(Entry.of_events(events, 1.5).encode())
    assert entry is not None and entry.kind == EVENTS and entry.neurons == 1.5 and entry.events() == events
    assert Entry.decode(b"not an entry") is None


def test_the_memory_tier_keeps_under_its_bytes() -> None:
    async def scenario() -> None:
        cache: MemoryCache[str, bytes] = MemoryCache(100, 60, max_bytes=10)
        await cache.set("a", b"1234")
        await cache.set("b", b"5678")
        await cache.set("c", b"90ab")  # 12 bytes: the oldest goes
        assert await cache.get("a") is None and await cache.get("c") == b"90ab" and cache.size == 8
        await cache.set("big", b"x" * 11)  # larger than the whole cache: not kept, nothing pushed out
        assert await cache.get("big") is None and await cache.get("b") == b"5678"
        await cache.set("b", b"12")  # replaced: its old size no longer counts
        assert cache.size == 6

    asyncio.run(scenario())

"""The translation cache shared through Redis (REDIS_URL): two gateway processes, one Redis, the emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_KEY
from tests.e2e.test_translate import deeplx, fresh, runs
from tests.http import call
from tests.redis_server import RedisServer
from tests.servers import Emulator, gateway, managed_env


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def translated(url: str, text: str) -> str:
    answer = deeplx(url, {"text": text, "source_lang": "EN", "target_lang": "DE"})
    assert answer.status == 200, answer.body
    data: str = answer.json()["data"]
    return data


def cache_counts(url: str) -> dict[str, float]:
    text = call("GET", f"{url}/metrics").body.decode()
    return {
        s.labels["result"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "gateway_translation_cache_total"
    }


def redis_metrics(url: str) -> dict[str, float]:
    families = text_string_to_metric_families(call("GET", f"{url}/metrics").body.decode())
    return {s.name: s.value for family in families for s in family.samples if s.name.startswith("gateway_redis")}


def wait_for_redis(*urls: str) -> None:
    """Until every gateway's /readyz says Redis answers again (its probe found it)."""
    deadline = time.monotonic() + 20
    for url in urls:
        while call("GET", f"{url}/readyz").status != 200:
            assert time.monotonic() < deadline, f"{url} did not go back to Redis"
            time.sleep(0.1)


def test_a_translation_made_by_one_gateway_is_a_cache_hit_in_another(
    upstream: Emulator, redis_server: RedisServer
) -> None:
    env = managed_env(upstream.api_base, REDIS_URL=redis_server.url)
    with gateway(env) as (first, _), gateway(env) as (second, _):
        text = fresh("Shared between two processes.")
        assert translated(first, text) == f"[de] {text}"
        assert len(runs(upstream)) == 1
        assert translated(second, text) == f"[de] {text}"
        assert len(runs(upstream)) == 1  # the second process asked Redis, not Workers AI
        assert cache_counts(second) == {"hit": 1, "miss": 0}
        assert cache_counts(first) == {"hit": 0, "miss": 1}
        # A text of several lines is looked up in one go, and a partly cached one only sends what is new.
        lines = f"{text}\n{fresh('A second line.')}"
        assert translated(second, lines) == "\n".join(f"[de] {line}" for line in lines.split("\n"))
        assert [run["text"] for run in runs(upstream)[1:]] == [lines.split("\n")[1]]
        status = call("GET", f"{second}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        assert status["backend"] == "redis" and status["cache"] == {"hits": 2, "misses": 1}
    with redis.Redis.from_url(redis_server.url) as client:
        keys = [key.decode() for key in client.keys("wag:translate:*")]
        assert len(keys) == 2 and all(len(key) == len("wag:translate:") + 64 for key in keys)  # hashes, no text
        assert all(0 < client.pttl(key) <= 86_400_000 for key in keys)  # TRANSLATE_CACHE_SECONDS


def test_translations_go_on_while_redis_is_down_and_are_shared_again_when_it_returns(
    upstream: Emulator, redis_server: RedisServer
) -> None:
    env = managed_env(upstream.api_base, REDIS_URL=redis_server.url)
    with gateway(env) as (first, log), gateway(env) as (second, _):
        before = fresh("Cached before Redis went away.")
        translated(first, before)
        redis_server.stop()
        # Each process serves from its own memory: what it saw before, and what it translates meanwhile.
        assert translated(second, before) == f"[de] {before}"  # second never saw it: Workers AI again
        during = fresh("Translated while Redis is down.")
        for _ in range(3):
            assert translated(first, during) == f"[de] {during}"
        assert [run["text"] for run in runs(upstream)] == [before, before, during]
        assert call("GET", f"{first}/readyz").status == 503
        chat = {"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "Hi"}]}
        headers = {"Authorization": f"Bearer {TEST_KEY}"}
        assert call("POST", f"{first}/v1/chat/completions", chat, headers).status == 200  # limits in memory
        assert redis_metrics(first) == {"gateway_redis_up": 0, "gateway_redis_outages_total": 1}
        redis_server.start()  # the same port, empty
        wait_for_redis(first, second)
        assert redis_metrics(first) == {"gateway_redis_up": 1, "gateway_redis_outages_total": 1}
        after = fresh("Shared again once Redis is back.")
        assert translated(first, after) == f"[de] {after}"
        assert translated(second, after) == f"[de] {after}"
        assert [run["text"] for run in runs(upstream)][3:] == [after]  # the second process found it in Redis
        assert "redis reachable again" in log.read_text()

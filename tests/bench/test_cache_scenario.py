"""The response-cache scenario's premise, against a real gateway and the fake upstream: its cached request
is answered from the cache after the first (no upstream call), and its uncached twin reaches the upstream
every time, so the two sides it compares are a hit and a full call."""

from __future__ import annotations

from bench.cached import requests_of
from bench.endpoints import gateway as gateway_endpoint
from tests.bench.fake import gateway_on_fake_upstream
from tests.http import call


def test_the_cached_side_is_a_hit_and_the_uncached_side_a_call() -> None:
    seen: dict[str, list[str]] = {}
    calls: dict[str, int] = {}
    with gateway_on_fake_upstream() as (upstream, url, _):
        for kind, pair in requests_of(gateway_endpoint(int(url.rsplit(":", 1)[1]))).items():
            for name, request in zip(("cached", "uncached"), pair, strict=True):
                call("POST", f"{upstream}/__bench/reset")
                answers = [call("POST", url + request.path, request.body, dict(request.headers)) for _ in range(3)]
                assert all(answer.status == 200 for answer in answers), answers[0].body
                seen[f"{kind}.{name}"] = [answer.headers["x-cache"] for answer in answers]
                calls[f"{kind}.{name}"] = call("GET", f"{upstream}/__bench/stats").json()["requests"]
    assert seen == {
        "chat.cached": ["MISS", "HIT", "HIT"],
        "chat.uncached": ["BYPASS"] * 3,
        "embed.cached": ["MISS", "HIT", "HIT"],
        "embed.uncached": ["BYPASS"] * 3,
    }
    assert calls == {"chat.cached": 1, "chat.uncached": 3, "embed.cached": 1, "embed.uncached": 3}

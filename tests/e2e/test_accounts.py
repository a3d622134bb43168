"""Several Cloudflare accounts (CF_ACCOUNTS) on the emulator: failover, exhaustion, rate limits, accounting."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openai
import pytest
import redis

from tests.conftest import CF_TOKEN, TEST_KEY
from tests.http import call
from tests.redis_server import RedisServer
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
A, B, C = "acct-alpha-0001", "acct-bravo-0002", "acct-charlie-003"
HELLO = [{"role": "user", "content": "Say hello"}]


Pool = Callable[..., AbstractContextManager[tuple[openai.OpenAI, str, Path]]]


@contextmanager
def pool(upstream: Emulator, *accounts: str, **settings: str) -> Iterator[tuple[openai.OpenAI, str, Path]]:
    """A gateway on `accounts` (all with the emulator's token), and an OpenAI client on it."""
    env = managed_env(upstream.api_base, CF_ACCOUNTS=",".join(f"{a}:{CF_TOKEN}" for a in accounts), **settings)
    with gateway(env) as (url, log):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            yield client, url, log


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The module's Redis, emptied: no test sees another's counters, limits or account states."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    return redis_server.url


@pytest.fixture(params=["memory", "redis"])
def pools(request: pytest.FixtureRequest, upstream: Emulator) -> Pool:
    """`pool` on the state backend of the run: this process's memory, or Redis (REDIS_URL)."""
    if request.param == "memory":
        return functools.partial(pool, upstream)
    return functools.partial(pool, upstream, REDIS_URL=request.getfixturevalue("redis_url"))


def accounts_called(upstream: Emulator) -> list[str]:
    """The account of each run call that reached the emulator, in order."""
    return [r["path"].split("/")[4] for r in upstream.requests() if "/ai/run/" in r["path"]]


def seconds_to_midnight() -> float:
    now = datetime.now(UTC)
    return ((now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - now).total_seconds()


def test_traffic_is_spread_over_the_accounts(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, C) as (client, _, _):
        for _ in range(6):
            client.chat.completions.create(model=LLAMA, messages=HELLO)
    assert Counter(accounts_called(upstream)) == {A: 2, B: 2, C: 2}


def test_an_exhausted_account_moves_traffic_to_the_next_with_no_error(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, log):
        upstream.fault(account=A, code=4006, times=100)
        answers = [client.chat.completions.create(model=LLAMA, messages=HELLO) for _ in range(4)]
        assert all(a.choices[0].message.content for a in answers)
        called = accounts_called(upstream)
    # A was asked at most once (that answer marked it exhausted); B served every request.
    assert called.count(A) <= 1 and called.count(B) == 4
    assert "used up today's allowance" in log.read_text()


def test_every_account_exhausted_is_a_429_with_the_time_to_the_reset(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(code=4006, times=100)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=LLAMA, messages=HELLO)
        assert Counter(accounts_called(upstream)) == {A: 1, B: 1}
        upstream.reset()
        with pytest.raises(openai.RateLimitError) as again:  # no account is asked until its recheck
            client.chat.completions.create(model=LLAMA, messages=HELLO)
        assert accounts_called(upstream) == []
    for error in (caught.value, again.value):
        retry_after = int(error.response.headers["retry-after"])
        assert abs(retry_after - seconds_to_midnight()) < 5
        body = error.response.json()["error"]
        assert body["type"] == "requests" and body["type"] != "insufficient_quota"
        assert body["code"] == "daily_limit_exceeded"
        assert "credit" not in body["message"].lower() and "balance" not in body["message"].lower()
        assert "00:00 UTC" in body["message"]


@pytest.mark.parametrize("fault", [{"code": 3040}, {"status": 500}, {"status": 503, "non_json": True}])
def test_capacity_and_server_errors_fail_over(upstream: Emulator, pools: Pool, fault: dict[str, object]) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(account=A, times=10, **fault)  # not a mark on A: each call may try it again
        answers = [client.chat.completions.create(model=LLAMA, messages=HELLO) for _ in range(4)]
        called = accounts_called(upstream)
    assert all(answer.choices[0].message.content for answer in answers)
    assert called.count(B) == 4 and called.count(A) >= 1


def test_three_accounts_quota_then_capacity_then_the_third(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, C) as (client, _, _):
        upstream.fault(account=A, code=4006, times=10)
        upstream.fault(account=B, code=3040, times=10)
        for _ in range(3):
            assert client.chat.completions.create(model=LLAMA, messages=HELLO).choices[0].message.content
        called = accounts_called(upstream)
    assert called.count(C) == 3 and called.count(A) == 1


def test_retries_are_bounded(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, C, UPSTREAM_RETRIES="1") as (client, _, _):
        upstream.fault(code=3040, times=10)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=LLAMA, messages=HELLO)
    assert len(accounts_called(upstream)) == 2  # the first try and one retry
    assert caught.value.response.json()["error"]["code"] == "rate_limit_exceeded"


def test_a_rejected_token_takes_the_account_out(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, log):
        upstream.fault(account=A, code=10000, times=100)
        for _ in range(4):
            assert client.chat.completions.create(model=LLAMA, messages=HELLO).choices[0].message.content
        called = accounts_called(upstream)
        text = log.read_text()
    assert called.count(A) <= 1 and called.count(B) == 4
    assert "TAKEN OUT OF THE POOL" in text and "rejected its API token" in text
    assert CF_TOKEN not in text


def test_a_wrong_account_id_takes_the_account_out(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, log):
        upstream.fault(account=A, code=7003, times=100)
        for _ in range(3):
            client.chat.completions.create(model=LLAMA, messages=HELLO)
        called = accounts_called(upstream)
    assert called.count(A) <= 1 and called.count(B) == 3
    assert "does not know the id" in log.read_text()


def test_a_client_error_is_never_retried(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(code=5006, times=10)
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=LLAMA, messages=HELLO)
    assert len(accounts_called(upstream)) == 1


def test_nothing_is_retried_once_a_stream_started(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(cut_stream_after=3, times=10)
        stream = client.chat.completions.create(model=LLAMA, messages=HELLO, stream=True)
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
    assert len(accounts_called(upstream)) == 1


def test_a_failure_before_the_stream_starts_fails_over(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(account=A, code=3040, times=10)
        texts = [
            "".join(
                chunk.choices[0].delta.content or ""
                for chunk in client.chat.completions.create(model=LLAMA, messages=HELLO, stream=True)
                if chunk.choices
            )
            for _ in range(2)
        ]
        called = accounts_called(upstream)
    assert all(texts) and called.count(B) == 2 and called.count(A) >= 1


def test_a_burst_stays_under_each_accounts_per_minute_limit(upstream: Emulator, pools: Pool) -> None:
    limits = '{"@cf/meta/llama-3.1-8b-instruct-fast": 5}'
    with pools(A, B, RATE_LIMITS=limits, RATE_LIMIT_WAIT_SECONDS="0.3") as (client, _, _):
        served, refused = 0, []
        for _ in range(12):
            try:
                client.chat.completions.create(model=LLAMA, messages=HELLO)
                served += 1
            except openai.RateLimitError as error:
                refused.append(error)
        called = Counter(accounts_called(upstream))
        other = client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input="not limited by the chat limit")
    assert served == 10 and called == {A: 5, B: 5}  # nothing over the limit reached Workers AI
    assert len(refused) == 2
    for error in refused:
        # A sliding window counter: the burst's minute fades out over the next one, and with 5 a minute the
        # sixth slot is free once its weight falls to 4/5, at most 60 + 12 s after the window opened.
        assert 1 <= int(error.response.headers["retry-after"]) <= 72
        assert "5 requests a minute" in error.response.json()["error"]["message"]
    assert other.data[0].embedding


def test_a_pinned_key_uses_only_its_account(upstream: Emulator, pools: Pool) -> None:
    pins = f'{{"{TEST_KEY}": "{B}"}}'
    with pools(A, B, C, ACCOUNT_KEY_PINS=pins) as (client, _, _):
        for _ in range(3):
            client.chat.completions.create(model=LLAMA, messages=HELLO)
    assert accounts_called(upstream) == [B, B, B]


def test_per_key_requests_per_minute(upstream: Emulator, pools: Pool) -> None:
    with pools(A, GATEWAY_KEY_RPM="2") as (client, _, _):
        client.chat.completions.create(model=LLAMA, messages=HELLO)
        client.chat.completions.create(model=LLAMA, messages=HELLO)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=LLAMA, messages=HELLO)
    assert "GATEWAY_KEY_RPM" in caught.value.response.json()["error"]["message"]
    assert len(accounts_called(upstream)) == 2


def test_a_bad_cf_accounts_setting_stops_the_start_with_a_clear_message(upstream: Emulator) -> None:
    env = managed_env(upstream.api_base, CF_ACCOUNTS=f"{A}:{CF_TOKEN},just-an-id")
    with pytest.raises(RuntimeError, match="exited early") as caught, gateway(env):
        pass
    assert "CF_ACCOUNTS entry 2 is not ACCOUNT_ID:TOKEN" in str(caught.value)
    assert CF_TOKEN not in str(caught.value)


def test_passthrough_mode_has_no_pool(upstream: Emulator) -> None:
    env = {"CF_API_BASE": upstream.api_base}
    with gateway(env) as (url, _):
        answer = call(
            "POST",
            f"{url}/v1/chat/completions",
            {"model": LLAMA, "messages": HELLO},
            {"Authorization": f"Bearer {A}:{CF_TOKEN}", "Content-Type": "application/json"},
        )
    assert answer.status == 200 and accounts_called(upstream) == [A]


def per_million(usd_in: float, usd_out: float, prompt: int, completion: int) -> float:
    """Neurons for tokens at USD prices per million (Workers AI: $0.011 per 1,000 neurons). llama-3.1-8b-instruct-fast
    has no published price: the gateway counts it at fp8-fast's $0.045 / $0.384."""
    return (usd_in * prompt + usd_out * completion) / 1_000_000 / 0.011 * 1000


def test_neuron_counts_match_the_price_table_for_a_known_mix(upstream: Emulator, pools: Pool) -> None:
    with pools(A) as (client, url, _):
        chat = client.chat.completions.create(model=LLAMA, messages=HELLO)
        chunks = list(
            client.chat.completions.create(
                model=LLAMA, messages=HELLO, stream=True, stream_options={"include_usage": True}
            )
        )
        streamed = chunks[-1].usage
        embedded = client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input=["one text", "and another"])
        client.images.generate(model="@cf/black-forest-labs/flux-1-schnell", prompt="a lighthouse at dusk")
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    assert chat.usage is not None and streamed is not None
    llama = per_million(0.045, 0.384, chat.usage.prompt_tokens, chat.usage.completion_tokens)
    llama += per_million(0.045, 0.384, streamed.prompt_tokens, streamed.completion_tokens)
    bge = per_million(0.020, 0.0, embedded.usage.prompt_tokens, 0)
    flux = 4 * 4.80 + 4 * 9.60  # a 1024x1024 picture is four 512x512 tiles; flux-1-schnell's default 4 steps
    (account,) = status["accounts"]
    by_model = {row["model"]: row for row in account["models"]}
    assert by_model[LLAMA]["neurons"] == pytest.approx(llama, abs=0.01) and by_model[LLAMA]["requests"] == 2
    assert by_model["@cf/baai/bge-small-en-v1.5"]["neurons"] == pytest.approx(bge, abs=0.01)
    assert by_model["@cf/black-forest-labs/flux-1-schnell"]["neurons"] == pytest.approx(flux, abs=0.01)
    assert account["neurons_used"] == pytest.approx(llama + bge + flux, abs=0.01)
    assert account["neurons_left"] == pytest.approx(10_000 - (llama + bge + flux), abs=0.01)
    assert sum(account["hourly"]) == pytest.approx(account["neurons_used"], abs=0.01)
    assert all(row["errors"] == 0 for row in account["models"])


def test_errors_are_counted_by_model(upstream: Emulator, pools: Pool) -> None:
    with pools(A) as (client, url, _):
        upstream.fault(code=5006)
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=LLAMA, messages=HELLO)
        client.chat.completions.create(model=LLAMA, messages=HELLO)
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    (row,) = status["accounts"][0]["models"]
    assert (row["model"], row["requests"], row["errors"]) == (LLAMA, 2, 1)


def test_metrics_count_failovers_neurons_and_account_states(upstream: Emulator, pools: Pool) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    with pools(A, B) as (client, url, _):
        upstream.fault(account=A, code=4006, times=10)
        answers = [client.chat.completions.create(model=LLAMA, messages=HELLO) for _ in range(3)]
        text = call("GET", f"{url}/metrics").body.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    expected = sum(
        per_million(0.045, 0.384, a.usage.prompt_tokens, a.usage.completion_tokens) for a in answers if a.usage
    )
    assert samples[("gateway_neurons_total", ())] == pytest.approx(expected, abs=0.01)
    assert samples[("gateway_accounts", (("state", "exhausted"),))] == 1
    assert samples[("gateway_accounts", (("state", "ok"),))] == 1
    assert samples[("gateway_account_failovers_total", (("model", LLAMA),))] == 1  # A is tried once, then out
    assert samples[("gateway_upstream_seconds_count", (("model", LLAMA),))] == 3


def test_two_gateways_on_one_redis_share_one_limit_and_one_neuron_count(upstream: Emulator, redis_url: str) -> None:
    limits = '{"@cf/meta/llama-3.1-8b-instruct-fast": 6}'
    settings = {"REDIS_URL": redis_url, "RATE_LIMITS": limits, "RATE_LIMIT_WAIT_SECONDS": "0"}
    with pool(upstream, A, **settings) as (first, url, _), pool(upstream, A, **settings) as (second, _, _):
        served = 0
        for client in (first, second) * 5:  # ten requests, alternating between the two processes
            try:
                answer = client.chat.completions.create(model=LLAMA, messages=HELLO)
                served += 1
                assert answer.usage is not None
            except openai.RateLimitError:
                pass
        time.sleep(0.3)  # the counters are written just after each answer
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    assert served == 6 and len(accounts_called(upstream)) == 6  # one limit for both
    (account,) = status["accounts"]
    (row,) = account["models"]
    assert row["requests"] == 6 and status["backend"] == "redis"  # one count, both processes' calls
    assert account["neurons_used"] == pytest.approx(
        6 * per_million(0.045, 0.384, answer.usage.prompt_tokens, answer.usage.completion_tokens), abs=0.05
    )

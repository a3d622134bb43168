"""Session affinity: one conversation stays on one account of a pool, `x-session-affinity` reaches Workers AI,
and the cached input tokens the emulator reports reach the client (OpenAI, Anthropic, Responses shapes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import redis

from tests.conftest import CF_TOKEN, TEST_KEY
from tests.e2e import test_accounts
from tests.e2e.test_accounts import A, B, C, Pool, accounts_called
from tests.servers import Emulator, gateway, managed_env

pools = test_accounts.pools  # the pool fixtures: this process's memory, or Redis
redis_url = test_accounts.redis_url

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GEMMA = "@cf/google/gemma-4-26b-a4b-it"
# A long, fixed opening, as agents send: the emulator caches whole blocks of 16 prompt tokens.
SYSTEM = "You are a patient assistant for a coding agent. " * 8
Turn = Callable[[list[dict[str, Any]], int], tuple[str, int | None]]


def runs(upstream: Emulator) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if "/ai/run/" in r["path"]]


def converse(turn: Turn, turns: int = 5) -> list[int | None]:
    """`turns` turns of one conversation, each resending the whole history; the cached tokens of each."""
    history: list[dict[str, Any]] = []
    cached: list[int | None] = []
    for number in range(turns):
        history.append({"role": "user", "content": f"Step {number}: what should the agent do next?"})
        text, hits = turn(history, number)
        history.append({"role": "assistant", "content": text})
        cached.append(hits)
    return cached


def openai_turn(client: openai.OpenAI, model: str, headers: dict[str, str]) -> Turn:
    """A chat turn through the official client: whole on even turns, streamed (with usage) on odd ones."""

    def turn(history: list[dict[str, Any]], number: int) -> tuple[str, int | None]:
        messages: Any = [{"role": "system", "content": SYSTEM}, *history]
        if number % 2 == 0:
            answer = client.chat.completions.create(model=model, messages=messages, extra_headers=headers)
            details = answer.usage.prompt_tokens_details if answer.usage else None
            return answer.choices[0].message.content or "", details.cached_tokens if details else None
        chunks = list(
            client.chat.completions.create(
                model=model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=headers,
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        usage = chunks[-1].usage
        details = usage.prompt_tokens_details if usage else None
        return text, details.cached_tokens if details else None

    return turn


def assert_warm_after_the_first(cached: list[int | None]) -> None:
    assert not cached[0]  # the first request of a session is cold
    hits = [c or 0 for c in cached[1:]]
    assert all(h > 0 for h in hits) and hits == sorted(hits), cached  # the shared prefix grows every turn


def test_five_turns_with_openai_stay_on_one_of_three_accounts_with_the_header_sent_on(
    upstream: Emulator, pools: Pool
) -> None:
    with pools(A, B, C) as (client, _, _):
        cached = converse(openai_turn(client, LLAMA, {"x-session-affinity": "ses_agent_0001"}))
        called = runs(upstream)
    assert len(called) == 5 and len({r["path"].split("/")[4] for r in called}) == 1
    assert all(r["headers"]["x-session-affinity"] == "ses_agent_0001" for r in called)
    assert_warm_after_the_first(cached)


def test_five_turns_with_anthropic_stay_on_one_account_and_report_cache_reads(upstream: Emulator, pools: Pool) -> None:
    input_tokens: list[int] = []

    def turn(history: list[dict[str, Any]], number: int) -> tuple[str, int | None]:
        request: Any = {
            "model": GEMMA,
            "max_tokens": 200,
            "system": SYSTEM,
            "messages": history,
            "extra_headers": {"x-session-affinity": "ses_claude_0001"},
        }
        if number % 2 == 0:
            message = claude.messages.create(**request)
        else:
            with claude.messages.stream(**request) as stream:
                message = stream.get_final_message()
        input_tokens.append(message.usage.input_tokens)
        text = "".join(block.text for block in message.content if block.type == "text")
        return text, message.usage.cache_read_input_tokens

    with pools(A, B, C) as (_, url, _):
        with anthropic.Anthropic(base_url=url, api_key=TEST_KEY, max_retries=0) as claude:
            cached = converse(turn)
        called = runs(upstream)
    assert len({r["path"].split("/")[4] for r in called}) == 1 and len(called) == 5
    assert all(r["headers"]["x-session-affinity"] == "ses_claude_0001" for r in called)
    assert_warm_after_the_first(cached)
    # Anthropic counts cache reads apart: input_tokens are only the part read fresh, a few tokens a turn.
    assert all(fresh < 40 for fresh in input_tokens[1:]) and input_tokens[0] > 40


def test_without_a_header_the_conversation_opening_keeps_it_on_one_account(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, C) as (client, _, _):
        cached = converse(openai_turn(client, GEMMA, {}))
        called = runs(upstream)
    sent = {r["headers"].get("x-session-affinity") for r in called}
    assert len({r["path"].split("/")[4] for r in called}) == 1
    assert len(sent) == 1 and next(iter(sent), "").startswith("gw-")  # a hash of the opening, the same each turn
    assert SYSTEM.split()[0] not in next(iter(sent))
    assert_warm_after_the_first(cached)


def test_responses_with_prompt_cache_key_and_previous_response_id(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, C) as (client, _, _):
        previous = None
        cached = []
        for number in range(3):
            response = client.responses.create(
                model=LLAMA,
                instructions=SYSTEM,
                input=f"Step {number}: what next?",
                prompt_cache_key="agent-42",
                **({"previous_response_id": previous} if previous else {}),
            )
            previous = response.id
            cached.append(response.usage.input_tokens_details.cached_tokens if response.usage else None)
        called = runs(upstream)
    assert len({r["path"].split("/")[4] for r in called}) == 1 and len(called) == 3
    assert all(r["headers"]["x-session-affinity"].startswith("gw-") for r in called)
    assert_warm_after_the_first(cached)


def test_two_gateways_on_one_redis_keep_a_conversation_on_one_account(upstream: Emulator, redis_url: str) -> None:
    env = managed_env(
        upstream.api_base, CF_ACCOUNTS=",".join(f"{a}:{CF_TOKEN}" for a in (A, B, C)), REDIS_URL=redis_url
    )
    with gateway(env) as (first, _), gateway(env) as (second, _):
        clients = [openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) for url in (first, second)]
        turns = [openai_turn(client, LLAMA, {"x-session-affinity": "ses_shared_0001"}) for client in clients]
        cached = converse(lambda history, number: turns[number % 2](history, number), turns=6)
        called = accounts_called(upstream)
        for client in clients:
            client.close()
    with redis.Redis.from_url(redis_url) as shared:
        keys = shared.keys("wag:affinity:*")
        assert len(keys) == 1 and b"ses_shared" not in keys[0]  # a hash of the session names it
        assert shared.get(keys[0]) == called[0].encode() and 0 < shared.ttl(keys[0]) <= 3600
    assert len(called) == 6 and len(set(called)) == 1  # turns alternate between the gateways
    assert_warm_after_the_first(cached)


def test_failover_breaks_the_affinity_and_the_conversation_sticks_to_the_new_account(
    upstream: Emulator, pools: Pool
) -> None:
    with pools(A, B, C) as (client, _, _):
        base = openai_turn(client, LLAMA, {"x-session-affinity": "ses_moving_0001"})

        def turn(history: list[dict[str, Any]], number: int) -> tuple[str, int | None]:
            if number == 2:  # the account of the first two turns is out of capacity once
                upstream.fault(account=accounts_called(upstream)[-1], code=3040, times=1)
            return base(history, number)

        cached = converse(turn)
        called = accounts_called(upstream)
    first, moved = called[0], called[3]
    assert called[:3] == [first, first, first]  # turns 1 and 2, then turn 3's attempt that met 3040
    assert moved != first and called[3:] == [moved, moved, moved]  # turn 3 moved; turns 4 and 5 stayed
    assert not cached[0] and cached[1] and not cached[2]  # the new account's cache was cold for turn 3
    assert (cached[3] or 0) > 0 and (cached[4] or 0) > (cached[3] or 0)


def test_managed_gateway_sends_the_header_on_and_reports_cached_tokens(
    upstream: Emulator, client: openai.OpenAI
) -> None:
    cached = converse(openai_turn(client, GEMMA, {"x-session-affinity": "ses_single_0001"}), turns=3)
    called = runs(upstream)
    assert [r["headers"]["x-session-affinity"] for r in called] == ["ses_single_0001"] * 3
    assert_warm_after_the_first(cached)


def test_passthrough_sends_the_clients_header_on_and_derives_nothing(upstream: Emulator) -> None:
    with gateway({"CF_API_BASE": upstream.api_base}) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=f"{A}:{CF_TOKEN}", max_retries=0) as client:
            cached = converse(openai_turn(client, LLAMA, {"x-session-affinity": "ses_own_0001"}), turns=2)
            client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "no header"}])
        called = runs(upstream)
    assert [r["headers"].get("x-session-affinity") for r in called] == ["ses_own_0001", "ses_own_0001", None]
    assert_warm_after_the_first(cached)

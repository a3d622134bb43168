"""Models that need the Workers Paid plan (Workers AI error 5035) through a pool of free and paid accounts,
and through a managed gateway of one free account, on the emulator told which accounts are free."""

from __future__ import annotations

import time
from collections import Counter

import anthropic
import openai
import pytest

from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.e2e import test_accounts
from tests.e2e.test_accounts import A, B, C, Pool, accounts_called
from tests.servers import Emulator, gateway, managed_env

pools = test_accounts.pools  # the pool fixtures: this process's memory, or Redis
redis_url = test_accounts.redis_url

GEMMA = "@cf/google/gemma-4-26b-a4b-it"  # made paid-only in the emulator for these tests (a model every branch serves)
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
KIMI = "@cf/moonshotai/kimi-k2.6"  # paid-only on real Workers AI, and by default in the emulator


def ask(client: openai.OpenAI, model: str, text: str) -> str:
    answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content or ""


def test_5035_moves_the_call_to_the_paid_account_and_marks_the_model_off_only_for_the_free_ones(
    upstream: Emulator, pools: Pool
) -> None:
    upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA, KIMI])
    with pools(A, B, C) as (client, _, log):
        assert all(ask(client, GEMMA, f"paid question {n}") for n in range(4))
        first = accounts_called(upstream)
        upstream.reset()
        upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA, KIMI])
        assert all(ask(client, LLAMA, f"free question {n}") for n in range(6))
        other_model = accounts_called(upstream)
    # C answered all four; each free account was asked once at most (its 5035 marked the model off for it).
    counted = Counter(first)
    assert counted[C] == 4 and counted[A] <= 1 and counted[B] <= 1 and first[-1] == C
    assert {A, B} <= set(other_model)  # the free accounts still serve every other model
    assert "needs Workers Paid" in log.read_text()


def test_no_paid_account_left_is_a_403_that_says_the_model_needs_the_paid_plan(upstream: Emulator, pools: Pool) -> None:
    upstream.plans(free_accounts=[A, B])  # kimi-k2.6 is paid-only by default
    with pools(A, B) as (client, url, _):
        with pytest.raises(openai.PermissionDeniedError) as caught:
            ask(client, KIMI, "hello")
        assert Counter(accounts_called(upstream)) == {A: 1, B: 1}
        upstream.reset()
        upstream.plans(free_accounts=[A, B])
        with pytest.raises(openai.PermissionDeniedError) as again:  # both marked: no account is asked
            ask(client, KIMI, "hello")
        assert accounts_called(upstream) == []
        with anthropic.Anthropic(base_url=url, api_key=TEST_KEY, max_retries=0) as claude:
            with pytest.raises(anthropic.PermissionDeniedError) as messages:
                claude.messages.create(model=KIMI, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    for error in (caught.value, again.value):
        body = error.response.json()["error"]
        assert body["code"] == "paid_plan_required" and "Workers Paid plan" in body["message"]
        assert KIMI in body["message"]
    anthropic_body = messages.value.response.json()
    assert anthropic_body["type"] == "error" and anthropic_body["error"]["type"] == "permission_error"
    assert "Workers Paid plan" in anthropic_body["error"]["message"]


def test_an_account_stated_free_is_not_asked_once_the_model_is_known_paid_only(upstream: Emulator) -> None:
    upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA])
    accounts = f"{A}:{CF_TOKEN}:free,{B}:{CF_TOKEN},{C}:{CF_TOKEN}:paid"
    with gateway(managed_env(upstream.api_base, CF_ACCOUNTS=accounts)) as (url, _):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0)
        ask(client, GEMMA, "first")  # until one 5035, nothing says gemma needs the paid plan
        upstream.reset()
        upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA])
        assert all(ask(client, GEMMA, f"then {n}") for n in range(4))
        called = accounts_called(upstream)
    # A (told free) is never asked; B (unstated) answers one 5035 at most, then is marked too.
    assert A not in called and called.count(B) <= 1 and called[-4:] == [C, C, C, C]


def test_an_account_stated_free_is_never_asked_for_a_model_the_catalog_marks_paid_only(upstream: Emulator) -> None:
    upstream.plans(free_accounts=[A])  # kimi-k2.6: paid-only in the model table the catalog is built from
    accounts = f"{A}:{CF_TOKEN}:free,{C}:{CF_TOKEN}:paid"
    with gateway(managed_env(upstream.api_base, CF_ACCOUNTS=accounts)) as (url, _):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0)
        assert all(ask(client, KIMI, f"question {n}") for n in range(4))
        kimi = accounts_called(upstream)
        upstream.reset()
        assert all(ask(client, LLAMA, f"free question {n}") for n in range(4))
        llama = accounts_called(upstream)
    assert kimi == [C, C, C, C]  # not even a first 5035 from A
    assert A in llama  # A still serves what the free plan serves


def test_managed_gateway_on_a_free_account_says_the_model_needs_the_paid_plan(
    upstream: Emulator, client: openai.OpenAI
) -> None:
    upstream.plans(free_accounts=[ACCOUNT])
    with pytest.raises(openai.PermissionDeniedError) as caught:
        ask(client, KIMI, "hello")
    body = caught.value.response.json()["error"]
    assert body["code"] == "paid_plan_required" and "Workers Paid plan" in body["message"]
    assert ask(client, LLAMA, "still served")  # the account's other models are untouched


def test_two_gateways_on_one_redis_share_what_one_learned(upstream: Emulator, redis_url: str) -> None:
    upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA])
    env = managed_env(
        upstream.api_base, CF_ACCOUNTS=f"{A}:{CF_TOKEN},{B}:{CF_TOKEN},{C}:{CF_TOKEN}", REDIS_URL=redis_url
    )
    with gateway(env) as (first, _), gateway(env) as (second, _):
        learner = openai.OpenAI(base_url=f"{first}/v1", api_key=TEST_KEY, max_retries=0)
        other = openai.OpenAI(base_url=f"{second}/v1", api_key=TEST_KEY, max_retries=0)
        for n in range(3):  # enough calls for the first gateway to meet both free accounts' 5035
            ask(learner, GEMMA, f"learn {n}")
        assert Counter(accounts_called(upstream))[A] == 1 and Counter(accounts_called(upstream))[B] == 1
        time.sleep(2.5)  # replicas read each other's marks every 2 s
        ask(other, LLAMA, "wake up")  # a call past the refresh time starts the refresh
        time.sleep(1)
        upstream.reset()
        upstream.plans(free_accounts=[A, B], paid_only_models=[GEMMA])
        assert all(ask(other, GEMMA, f"use {n}") for n in range(3))
        called = accounts_called(upstream)
        learner.close()
        other.close()
    assert called == [C, C, C]  # the second gateway never asked the free accounts

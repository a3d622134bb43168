"""Free and paid accounts (5035 for paid-only models) and prefix caching under `x-session-affinity`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.emulator.conftest import Emulator, _serve

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GEMMA = "@cf/google/gemma-4-26b-a4b-it"
KIMI = "@cf/moonshotai/kimi-k2.6"
SYSTEM = {"role": "system", "content": "You review code for a careful team of engineers. " * 6}


@pytest.fixture(scope="module")
def free_and_paid() -> Iterator[Emulator]:
    """An emulator started with `acct-free` on the free plan (every other account is paid)."""
    yield from _serve(free_accounts=("acct-free",))


def on(emu: Emulator, account: str) -> Emulator:
    return Emulator(emu.host, emu.port, account=account)


def turn(*texts: str) -> dict[str, Any]:
    messages = [SYSTEM]
    for number, text in enumerate(texts):
        messages.append({"role": "user" if number % 2 == 0 else "assistant", "content": text})
    return {"messages": messages}


def test_a_paid_only_model_answers_a_free_account_5035(free_and_paid: Emulator) -> None:
    reply = on(free_and_paid, "acct-free").run(KIMI, {"messages": [{"role": "user", "content": "hi"}]})
    assert reply.status == 403
    error = reply.json()["errors"][0]
    assert error["code"] == 5035 and "Workers Paid plan" in error["message"]
    assert on(free_and_paid, "acct-free").run(LLAMA, turn("hi")).status == 200  # its other models serve


def test_plans_are_set_read_and_reset_through_the_control_api(free_and_paid: Emulator) -> None:
    put = free_and_paid.request("PUT", "/__emulator/plans", json={"paid_only_models": [LLAMA]})
    assert put.json() == {"free_accounts": ["acct-free"], "paid_only_models": [LLAMA]}
    assert on(free_and_paid, "acct-free").run(LLAMA, turn("hi")).status == 403
    assert on(free_and_paid, "acct-paid").run(LLAMA, turn("hi")).status == 200
    bad = free_and_paid.request("PUT", "/__emulator/plans", json={"free_accounts": "acct-free"})
    assert bad.status == 400
    reset = free_and_paid.request("DELETE", "/__emulator/plans").json()
    assert reset["free_accounts"] == ["acct-free"] and KIMI in reset["paid_only_models"]
    assert LLAMA not in reset["paid_only_models"]


def test_a_repeated_prefix_in_one_session_is_reported_as_cached_tokens(emu: Emulator) -> None:
    session = {"x-session-affinity": "ses_review_1"}
    first = emu.run(LLAMA, turn("Look at this diff."), headers=session).json()["result"]["usage"]
    second = emu.run(LLAMA, turn("Look at this diff.", "Done.", "And this one?"), headers=session).json()
    usage = second["result"]["usage"]
    assert "prompt_tokens_details" not in first  # the first request of a session is cold
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert 0 < cached < usage["prompt_tokens"] and cached % 16 == 0
    assert cached >= first["prompt_tokens"] - 16  # all of the first prompt but its last partial block


def test_no_cache_without_the_session_or_on_another_account(emu: Emulator) -> None:
    body = turn("Look at this diff.")
    emu.run(LLAMA, body, headers={"x-session-affinity": "ses_review_2"})
    elsewhere = on(emu, "another-account").run(LLAMA, body, headers={"x-session-affinity": "ses_review_2"})
    without = emu.run(LLAMA, body)
    assert "prompt_tokens_details" not in elsewhere.json()["result"]["usage"]
    assert "prompt_tokens_details" not in without.json()["result"]["usage"]


def test_streams_and_openai_shaped_models_carry_the_cached_tokens(emu: Emulator) -> None:
    session = {"x-session-affinity": "ses_review_3"}
    emu.run(GEMMA, turn("Look at this diff."), headers=session)
    whole = emu.run(GEMMA, turn("Look at this diff.", "Done.", "Next?"), headers=session).json()["result"]["usage"]
    body = {**turn("Look at this diff.", "Done.", "Next?", "Fine.", "Last?"), "stream": True}
    events = emu.run(GEMMA, body, headers=session).events()
    final = orjson.loads(events[-2])["usage"]  # the cumulative native usage event before [DONE]
    assert whole["prompt_tokens_details"]["cached_tokens"] > 0
    assert final["prompt_tokens_details"]["cached_tokens"] >= whole["prompt_tokens_details"]["cached_tokens"]

"""Which conversation a request belongs to (app/convert/affinity.py), the affinity map (app/accounts/affinity.py)
and the plan suffix of CF_ACCOUNTS entries."""

from __future__ import annotations

import asyncio

import pytest

from app.accounts.affinity import Affinity
from app.cf_accounts import parse_accounts, parse_plans
from app.convert.affinity import session_of
from app.state import MemoryState

SYSTEM = {"role": "system", "content": "You are terse."}
FIRST = {"role": "user", "content": "What is a neuron?"}
TURN_TWO = [SYSTEM, FIRST, {"role": "assistant", "content": "A unit."}, {"role": "user", "content": "More?"}]


def test_the_header_wins_and_travels_as_it_is() -> None:
    session = session_of("ses_12345678", cache_key="k", user="u", messages=[SYSTEM, FIRST])
    assert session.id == "ses_12345678" and not session.opens


def test_a_header_that_is_not_a_plain_token_is_hashed() -> None:
    session = session_of("my session with spaces")
    assert session.id.startswith("gw-") and "session" not in session.id and len(session.id) == 35


def test_derived_keys_in_order_and_never_the_text() -> None:
    by_key = session_of(None, cache_key="agent-7", user="alice", messages=[SYSTEM, FIRST])
    by_user = session_of(None, user="alice", messages=[SYSTEM, FIRST])
    by_opening = session_of(None, messages=[SYSTEM, FIRST])
    assert len({by_key.id, by_user.id, by_opening.id}) == 3
    for session in (by_key, by_user, by_opening):
        assert session.id.startswith("gw-") and "alice" not in session.id and "agent" not in session.id
    assert session_of(None, cache_key="agent-7").id == by_key.id  # the key alone decides


def test_every_turn_of_a_conversation_has_its_opening_fingerprint() -> None:
    first, second = session_of(None, messages=[SYSTEM, FIRST]), session_of(None, messages=TURN_TWO)
    assert first.id == second.id
    assert first.opens and not second.opens  # only the first turn is placed freely (then remembered)
    other = session_of(None, messages=[SYSTEM, {"role": "user", "content": "Another question"}])
    assert other.id != first.id


def test_without_a_pool_only_the_header_counts() -> None:
    assert session_of(None, derive=False, user="alice", messages=[FIRST]).id == ""
    assert session_of("ses_1", derive=False).id == "ses_1"


def test_the_map_forgets_after_its_ttl_and_keeps_only_the_most_recent() -> None:
    now = [1000.0]
    affinity = Affinity(MemoryState(), ttl=60, max_sessions=2, clock=lambda: now[0])

    async def scenario() -> tuple[str | None, ...]:
        await affinity.remember("s1", "acct-a")
        await affinity.remember("s2", "acct-b")
        await affinity.remember("s3", "acct-c")  # s1 is the least recently used: dropped
        dropped, kept = await affinity.account_for("s1"), await affinity.account_for("s3")
        now[0] += 61
        return dropped, kept, await affinity.account_for("s3")

    assert asyncio.run(scenario()) == (None, "acct-c", None)


def test_cf_accounts_states_plans_and_stays_compatible() -> None:
    value = "acct-a:tok-1:paid, acct-b:tok:2, acct-c:tok-3:FREE"
    assert parse_accounts(value) == [("acct-a", "tok-1"), ("acct-b", "tok:2"), ("acct-c", "tok-3")]
    assert parse_plans(value) == {"acct-a": "paid", "acct-c": "free"}
    with pytest.raises(ValueError, match="entry 2 repeats an account id"):
        parse_accounts("acct-a:tok-1:paid,acct-a:tok-2:free")

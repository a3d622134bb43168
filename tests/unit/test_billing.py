"""OneAPI's balance (hard_limit_usd - total_usage / 100) is what is left today, whatever the states."""

from __future__ import annotations

import pytest

from app.accounts import billing
from app.accounts.snapshot import AccountStatus, Snapshot


def snapshot(*accounts: AccountStatus) -> Snapshot:
    return Snapshot(generated_at=1_796_283_827, day="2026-12-03", reset_at=1_796_342_400, accounts=accounts)


def account(state: str, used: float, left: float) -> AccountStatus:
    return AccountStatus(id="a1b2…f9e0", state=state, neurons_used=used, neurons_left=left, daily_allowance=10_000)  # type: ignore[arg-type]


def balance(snap: Snapshot) -> float:
    hard: float = billing.subscription(snap)["hard_limit_usd"]
    cents: float = billing.usage(snap)["total_usage"]
    return hard - cents / 100


def test_an_exhausted_account_counts_whole_even_if_fewer_neurons_were_counted() -> None:
    snap = snapshot(account("ok", 1000, 9000), account("exhausted", 9500, 0))
    assert billing.subscription(snap)["hard_limit_usd"] == 0.22
    assert balance(snap) == pytest.approx(9000 * 0.011 / 1000)


def test_a_disabled_account_is_neither_allowance_nor_usage() -> None:
    snap = snapshot(account("ok", 0, 10_000), account("disabled", 500, 0))
    assert billing.subscription(snap)["hard_limit_usd"] == 0.11
    assert billing.usage(snap)["total_usage"] == 0
    all_disabled = snapshot(account("disabled", 500, 0))
    assert billing.subscription(all_disabled)["hard_limit_usd"] == 0 and balance(all_disabled) == 0


def test_without_a_pool_one_allowance_and_no_usage() -> None:
    empty = snapshot()
    assert billing.subscription(empty, pooled=False)["hard_limit_usd"] == 0.11
    assert billing.usage(empty, pooled=False)["total_usage"] == 0

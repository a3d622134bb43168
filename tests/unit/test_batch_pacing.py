"""The batch pacer on the account pool's own ledger, on a clock the test moves (as tests.unit.test_account_pool_day.py
does): lines stop once today's neurons reach the batches' share, and start again after 00:00 UTC."""

from __future__ import annotations

import asyncio

from app.accounts.pool import AccountPool
from app.catalog import Catalog
from app.serving.batches import Pacer
from app.state import MemoryState
from app.upstream.client import Credentials
from tests.unit.test_account_pool_day import EVENING, LLAMA, MIDNIGHT, A, B, Clock


def pool(clock: Clock, *accounts: str, allowance: float = 100.0) -> AccountPool:
    creds = [Credentials(account, "token") for account in accounts]
    return AccountPool(creds, state=MemoryState(), catalog=Catalog(), allowance=allowance, clock=clock)


def test_lines_stop_at_the_share_and_start_again_after_midnight() -> None:
    asyncio.run(_stops_and_starts_again())


def test_the_share_is_of_every_account_s_allowance_together() -> None:
    asyncio.run(_every_account())


def test_no_pool_no_pacing() -> None:
    assert asyncio.run(Pacer(None, share=0.1).wait_until()) is None


async def _stops_and_starts_again() -> None:
    clock = Clock(EVENING)
    accounts = pool(clock, A)
    pacer = Pacer(accounts, share=0.5)
    assert await pacer.wait_until() is None
    accounts.charge_tokens(accounts.accounts[0], LLAMA, 49.0, accounts.accounts[0].creds)
    assert await pacer.wait_until() is None  # 49 of the 50 the share allows
    accounts.charge_tokens(accounts.accounts[0], LLAMA, 1.0, accounts.accounts[0].creds)
    assert await pacer.wait_until() == int(MIDNIGHT)  # the share is used: wait for the reset
    clock.now = MIDNIGHT + 1
    assert await pacer.wait_until() is None  # a new day, a new share


async def _every_account() -> None:
    accounts = pool(Clock(EVENING), A, B)
    pacer = Pacer(accounts, share=0.5)
    accounts.charge_tokens(accounts.accounts[0], LLAMA, 99.0, accounts.accounts[0].creds)
    assert await pacer.wait_until() is None  # 99 of 100 (half of 2 x 100)
    accounts.charge_tokens(accounts.accounts[1], LLAMA, 1.0, accounts.accounts[1].creds)
    assert await pacer.wait_until() == int(MIDNIGHT)

"""Selection: which account of the pool a call goes to (app/accounts/pool.py runs the call).

The usable account with the most of today's allowance left, round-robin among equals (the scan starts one
account further on each call), or the account a gateway key is pinned to (ACCOUNT_KEY_PINS); an account
that may not run the model (it needs Workers Paid, `plans.py`) is passed over, and a conversation stays on
the account it last ran on while that one can take it (`affinity.py`).
Rate limits: each account's per-model requests per minute (`rates.py`, kept on the model's `Route`) are
counted in sliding window counters (`limiter.py`: in this process, or in Redis through the `limits` library,
so replicas on one Redis share them); an account at its limit is passed over, and when all are, the call
waits for the first free slot up to `max_wait` seconds, then gets a 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping

from app.accounts import refusals
from app.accounts.account import Account, Route
from app.accounts.affinity import Affinity
from app.accounts.limiter import Limiter, LocalLimiter, SharedLimiter
from app.accounts.plans import PaidOnly
from app.state.base import SharedState

log = logging.getLogger("app.accounts")


class Selection:
    """Chooses among `accounts`; `limiter` counts each account's calls a minute per model (the per-key limits
    too, `keys.py`), and is also `local` when its counters are in this process."""

    def __init__(
        self,
        accounts: list[Account],
        by_id: Mapping[str, Account],
        paid: PaidOnly,
        affinity: Affinity | None,
        state: SharedState,
        *,
        max_wait: float,
        clock: Callable[[], float],
    ) -> None:
        self.accounts = accounts
        self.by_id = by_id
        self.paid = paid
        self.affinity = affinity
        # One process: counters here (the library's in-process storage costs 17x more a hit); else `limits`.
        self.local = LocalLimiter(clock) if state.backend == "memory" else None
        self.limiter: Limiter = self.local or SharedLimiter(state.limits_storage())
        # A pool of one account counted in this process: every call goes to it (`AccountPool.ready`).
        self.solo = accounts[0] if len(accounts) == 1 and self.local is not None else None
        self.max_wait = max_wait
        self.clock = clock
        self._next = 0

    def take(self, route: Route, now: float, pinned: Account | None) -> Account | None:
        """The account to try first if one has a rate-limit slot now in this process's counters; None when the
        counters are shared (Redis), none is usable or all are at their limit (then `choose` decides)."""
        local = self.local
        if local is None:
            return None
        limit = route.limit
        solo = self.solo
        if solo is not None and pinned is None:
            if solo.recheck_at <= now and (not limit or local.take(route.solo_key, limit, now)):
                return solo
            return None
        for account in self.ranked(now, [], pinned, route.model.id):
            if not limit or local.take(route.keys[account.id], limit, now):
                return account
        return None

    async def choose(self, route: Route, tried: list[Account], pinned: Account | None) -> Account | None:
        """The account to try next, once it has a rate-limit slot for the model; waits up to `max_wait`, then
        raises a 429. None when no account may take the call at all (`failover.py` says why)."""
        limit = route.limit
        deadline = self.clock() + self.max_wait
        while True:
            now = self.clock()
            candidates = self.ranked(now, tried, pinned, route.model.id)
            if not candidates:
                return None
            if not limit:
                return candidates[0]
            for account in candidates:
                if await self.limiter.hit(route.keys[account.id], limit):
                    return account
            free_at = min([await self.limiter.free_at(route.keys[a.id], limit) for a in candidates])
            if free_at > deadline:
                raise refusals.rate_limited(route.model.id, limit, max(1, math.ceil(free_at - now)))
            await asyncio.sleep(max(0.01, free_at - now))

    def ranked(self, now: float, tried: list[Account], pinned: Account | None, model_id: str) -> list[Account]:
        """The accounts that may take the call, best first: the pinned one alone, else least used first."""
        if pinned is not None:
            fits = pinned.usable(now) and pinned not in tried and not self.blocked(pinned, model_id, now)
            return [pinned] if fits else []
        accounts = self.accounts
        count = len(accounts)
        if count == 1:
            only = accounts[0]
            return [only] if only.recheck_at <= now and only not in tried else []
        start = self._next = (self._next + 1) % count
        order = accounts[start:] + accounts[:start]  # round-robin among equals: sorted() is stable
        usable = [a for a in order if a.usable(now) and a not in tried]
        if model_id in self.paid.paid_models:
            usable = [a for a in usable if not self.paid.blocked(a.id, model_id, now)]
        usable.sort(key=_used)  # least used first: the most allowance left
        return usable

    def others(self, tried: list[Account], pinned: Account | None, model_id: str) -> bool:
        """Whether an account not yet tried may take the call (never for a key pinned to one)."""
        if pinned is not None:
            return False
        now = self.clock()
        return any(
            account.usable(now) and account not in tried and not self.blocked(account, model_id, now)
            for account in self.accounts
        )

    def blocked(self, account: Account, model_id: str, now: float) -> bool:
        """`account` may not run `model_id` (it needs the paid plan): one set lookup for every other model."""
        return model_id in self.paid.paid_models and self.paid.blocked(account.id, model_id, now)

    async def sticky(self, route: Route, session: str, now: float) -> Account | None:
        """The account `session` last ran on, if it can serve this call now (with a rate-limit slot taken);
        else None, and the pool chooses as for any call."""
        assert self.affinity is not None
        found = self.by_id.get(await self.affinity.account_for(session) or "")
        if found is None or not found.usable(now) or self.blocked(found, route.model.id, now):
            return None
        limit = route.limit
        if limit:
            key = route.keys[found.id]
            free = self.local.take(key, limit, now) if self.local else await self.limiter.hit(key, limit)
            if not free:
                return None
        return found

    async def stick(self, session: str, account: Account) -> None:
        """`session` ran on `account`: its next turn goes there too (if affinity is on)."""
        if self.affinity is not None:
            try:
                await self.affinity.remember(session, account.id)
            except Exception as exc:  # the shared state failing costs the next turn its cache, not this answer
                log.warning("could not record session affinity: %s", type(exc).__name__)


def _used(account: Account) -> float:
    return account.used

"""Today: the UTC day the pool counts in, and the periodic work a call checks for (app/accounts/pool.py).

At 00:00 UTC the day's counters start again (`usage:{account}:{YYYY-MM-DD}`, `ledger.py`) and an account
that used up its allowance serves again. With shared state (Redis), a call also starts, at most every
REFRESH_SECONDS and in the background, a read of what the other workers and replicas wrote: each account's
neurons today, its marks (exhausted, taken out) and its paid-plan marks (`plans.py`). Both wait behind one
time, `due`, which is all a call compares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import orjson

from app.accounts.account import Account
from app.accounts.ledger import DAY_SECONDS, Ledger
from app.accounts.plans import PaidOnly
from app.state.base import SharedState

REFRESH_SECONDS = 2.0  # how stale one replica's view of the others' counters and states may get


class Today:
    """`date` (YYYY-MM-DD) is the day counted in, until `midnight`; `due`: when a call next has periodic work."""

    def __init__(
        self,
        state: SharedState,
        accounts: list[Account],
        by_id: Mapping[str, Account],
        paid: PaidOnly,
        ledger: Ledger,
        clock: Callable[[], float],
    ) -> None:
        self.state = state
        self.accounts = accounts
        self.by_id = by_id
        self.paid = paid
        self.ledger = ledger
        self.shared = state.backend != "memory"  # other workers and replicas write too: read them in
        self.date = ""
        self.midnight = 0.0
        self.due = 0.0
        self._refreshed = 0.0
        self._refreshing: asyncio.Task[None] | None = None
        self.roll(clock())

    def periodic(self, now: float) -> None:
        """The work that was due at `now` (a call found `now >= due`)."""
        if now >= self.midnight:
            self.roll(now)
        if self.shared and now - self._refreshed >= REFRESH_SECONDS:
            self._refresh_soon(now)

    def roll(self, now: float) -> None:
        """Starts the day `now` falls in: each account's neurons at zero, an exhausted account usable again."""
        self.ledger.close_day()  # what was counted before midnight goes to the day that ended
        day_start = now - now % DAY_SECONDS
        self.date = datetime.fromtimestamp(day_start, UTC).strftime("%Y-%m-%d")
        self.midnight = day_start + DAY_SECONDS
        for account in self.accounts:
            account.used = 0.0
            account.usage_key = f"usage:{account.id}:{self.date}"
            if account.exhausted_until and account.exhausted_until <= now:
                account.exhausted_until = 0.0
        self._set_due()

    def _set_due(self) -> None:
        self.due = min(self.midnight, self._refreshed + REFRESH_SECONDS) if self.shared else self.midnight

    def _refresh_soon(self, now: float) -> None:
        self._refreshed = now
        self._set_due()
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh())

    async def refresh(self) -> None:
        """Takes in what other workers and replicas wrote: each account's neurons today and its state."""
        await self.paid.refresh(self.by_id)
        for account in self.accounts:
            counters = await self.state.counters(account.usage_key)
            account.used = max(account.used, counters.get("neurons", 0.0))
            raw = await self.state.get(f"account:{account.id}")
            if raw:
                saved = orjson.loads(raw)
                if float(saved.get("recheck_at") or 0) > account.recheck_at:
                    account.exhausted_until = float(saved.get("exhausted_until") or 0)
                    account.disabled = str(saved.get("disabled") or "")
                    account.recheck_at = float(saved["recheck_at"])

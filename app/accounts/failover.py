"""Failover: what happens when a call fails, decided before any byte reached the client (a call that raised;
a stream that is open is never retried). The pool (app/accounts/pool.py) hands the failure here.

The daily allowance used up (4006/3036) marks the account exhausted until 00:00 UTC; a rejected token
(10000) or a wrong account id (7003) takes it out, logged as an error, and one call tries it again every
`recheck` seconds (ACCOUNT_RECHECK_SECONDS), so a fixed token or a passing fault brings it back (the start-up
check, `check.py`, marks the same way and probes a marked account again every `recheck` seconds); every
error that follows names the setting the operator used (CF_API_TOKEN / CF_ACCOUNT_ID, or CF_ACCOUNTS) and
says in Retry-After when the account is tried again. A 5035 takes the model off that account only
(`plans.py`). Capacity (3040), 429, 5xx, timeouts and connection failures move to another account after a
short backoff, at most `retries` times. A client's mistake (any other 4xx) is never retried. What a failure
means, and the wording of the errors clients see, are `refusals.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.accounts import refusals
from app.accounts.account import Account, Route
from app.accounts.ledger import Ledger
from app.accounts.plans import MARK_SECONDS, PAID_PLAN_REQUIRED, paid_plan_error
from app.accounts.selection import Selection
from app.accounts.today import Today
from app.errors import GatewayError, UpstreamError
from app.ops.metrics import Metrics

log = logging.getLogger("app.accounts")
T = TypeVar("T")


class Failover:
    """Marks what a failure says about an account, tries the others while the failure allows, and says why
    when none is left."""

    def __init__(
        self,
        selection: Selection,
        today: Today,
        ledger: Ledger,
        allowance: float,
        recheck: float,
        retries: int,
        backoff: float,
        *,
        pooled: bool,
    ) -> None:
        self.selection = selection
        self.accounts = selection.accounts
        self.paid = selection.paid
        self.clock = selection.clock
        self.today = today
        self.ledger = ledger
        self.allowance = allowance
        self.recheck = recheck
        self.retries = retries
        self.backoff = backoff
        self.pooled = pooled  # the accounts come from CF_ACCOUNTS (else CF_ACCOUNT_ID and CF_API_TOKEN)
        self.metrics: Metrics | None = None  # set by the app (`AccountPool.metrics`): failovers, retries

    async def fail_over(
        self,
        route: Route,
        attempt: Callable[[Account], Awaitable[T]],
        account: Account,
        error: UpstreamError,
        pinned: Account | None,
        session: str = "",
    ) -> T:
        """The first attempt failed: mark the account, and try the others while the failure allows."""
        model_id = route.model.id
        tried: list[Account] = []
        retries = self.retries
        while True:
            self._count_error(account, model_id)
            if error.upstream_code == PAID_PLAN_REQUIRED:
                self._paid_only(account, model_id)
            elif not self._fail(account, error):
                raise error
            tried.append(account)
            reason = str(error.code)
            if not self.selection.others(tried, pinned, model_id):
                if error.upstream_code == PAID_PLAN_REQUIRED and len(self.accounts) > 1:  # one: its own words
                    raise paid_plan_error(model_id, pinned=pinned is not None) from None
                if error.code in refusals.EXHAUSTED and len(self.accounts) > 1:  # one account: its own words
                    raise self._exhausted(self.clock(), pinned) from None
                if refusals.rejects(error):
                    raise self._rejected(account, error) from None
                raise error
            if error.code in refusals.TRANSIENT or refusals.transient_status(error.upstream_status):
                if retries <= 0:
                    raise error
                retries -= 1
                await asyncio.sleep(self.backoff)
            if self.metrics is not None:
                self.metrics.failover(model_id)
                self.metrics.retry(reason)
            account = await self.choose(route, tried, pinned)
            started = time.perf_counter()
            try:
                result = await attempt(account)
            except UpstreamError as failed:
                error = failed
                continue
            if self.metrics is not None:
                self.metrics.upstream(model_id, time.perf_counter() - started)
            if account.recheck_at:
                self.clear(account)
            if session:  # the conversation moved: it stays on the account that answered
                await self.selection.stick(session, account)
            return result

    async def choose(self, route: Route, tried: list[Account], pinned: Account | None) -> Account:
        """The account to try next (`Selection.choose`), or the error that says why there is none."""
        account = await self.selection.choose(route, tried, pinned)
        if account is None:
            raise self._none_left(self.clock(), pinned, route.model.id)
        return account

    def _fail(self, account: Account, error: UpstreamError) -> bool:
        """Marks what the failure says about the account; True if another account may serve the call."""
        code = error.code
        now = self.clock()
        if code in refusals.EXHAUSTED:
            midnight = self.today.midnight
            account.exhausted_until = midnight
            account.recheck_at = min(midnight, now + self.recheck)
            log.warning("account %s used up today's allowance; unused until 00:00 UTC", account.masked)
            self.ledger.save_state(account)
            return True
        if refusals.rejects(error):
            self.take_out(account, error)
            return True
        return code in refusals.TRANSIENT or refusals.transient_status(error.upstream_status)

    def _paid_only(self, account: Account, model_id: str) -> None:
        """A 5035: this model, on this account, needs the paid plan; its other models keep serving."""
        now = self.clock()
        self.paid.mark(account.id, account.masked, model_id, now + max(MARK_SECONDS, self.recheck), now)
        self.ledger.later(self.paid.save(account.id, now))

    def _count_error(self, account: Account, model_id: str) -> None:
        tally = account.tally.get(model_id) or self.ledger.new_tally(account, model_id)
        tally[0] += 1
        tally[2] += 1

    def take_out(self, account: Account, error: UpstreamError, *, when: str = "") -> None:
        """Marks an account whose credentials Cloudflare rejected: passed over until its recheck, logged as
        one error line naming the setting and the account (masked), never the token."""
        why = refusals.why_taken_out(error)
        account.disabled = why
        account.recheck_at = self.clock() + self.recheck
        setting = self.setting(account)
        out = "ACCOUNT TAKEN OUT OF THE POOL" if len(self.accounts) > 1 else "no call is sent to it"
        log.error(
            "%s REJECTED%s: account %s: %s (%s); %s until it answers again (checked every %.0f s). Fix %s.",
            setting,
            when,
            account.masked,
            why,
            refusals.upstream_text(error),
            out,
            self.recheck,
            setting,
        )
        self.ledger.save_state(account)

    def clear(self, account: Account) -> None:
        """A marked account answered after all: usable again."""
        account.exhausted_until, account.disabled, account.recheck_at = 0.0, "", 0.0
        log.warning("account %s answers again; back in the pool", account.masked)
        self.ledger.save_state(account)

    def restore(self, account: Account) -> None:
        """Cloudflare accepted a marked account's credentials again (the start-up check's recheck)."""
        if account.disabled or account.recheck_at:
            self.clear(account)

    def rejected(self) -> list[Account]:
        """The accounts whose credentials Cloudflare rejected (until they answer again)."""
        return [account for account in self.accounts if account.disabled]

    def setting(self, account: Account) -> str:
        """The setting the operator must fix for a rejected account: the one they used."""
        return refusals.setting_to_fix(account, pooled=self.pooled)

    def recheck_in(self, accounts: list[Account]) -> int:
        """Whole seconds until the first of `accounts` is tried again (at least 1: what Retry-After says)."""
        now = self.clock()
        return max(1, math.ceil(min(account.recheck_at for account in accounts) - now))

    def _none_left(self, now: float, pinned: Account | None, model_id: str = "") -> GatewayError:
        accounts = [pinned] if pinned is not None else self.accounts
        blocked = self.selection.blocked
        if any(a.usable(now) and blocked(a, model_id, now) for a in accounts):  # the rest need Workers Paid
            return paid_plan_error(model_id, pinned=pinned is not None)
        if all(a.disabled for a in accounts):  # each passed over until its recheck
            return refusals.all_taken_out(accounts, self.setting(accounts[0]), self.recheck_in(accounts))
        return self._exhausted(now, pinned)

    def _rejected(self, account: Account, error: UpstreamError) -> UpstreamError:
        return refusals.rejected_error(account, error, self.setting(account), self.recheck_in([account]))

    def _exhausted(self, now: float, pinned: Account | None = None) -> UpstreamError:
        seconds = max(1, math.ceil(self.today.midnight - now))
        return refusals.exhausted_error(self.allowance, seconds, pinned=pinned is not None)

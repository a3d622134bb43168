"""The credential check: does Cloudflare accept each account's token, asked once at start-up.

A wrong CF_API_TOKEN (or an id Cloudflare does not know) used to show only on the first call. Here, once
the gateway serves, each account is asked for one model from `/ai/models/search` (`WorkersAI.
check_credentials`: no neurons, and it needs the Workers AI permission on that very account). A rejection
marks the account as a failed call would (`AccountPool.take_out`: one error line naming the setting and the
masked account, never the token), so /readyz reports it and calls get a 503 naming the setting, with
Retry-After. Any other failure (Cloudflare unreachable, slow, 5xx) proves nothing and is only logged: calls
then find out. Every ACCOUNT_RECHECK_SECONDS each account still marked is asked again, so an account comes
back without waiting for a client's call (which /readyz, failing, may keep away).

In the background: serving never waits for it. Each process checks its own accounts (with WORKERS, each
worker keeps its own account states unless REDIS_URL shares them).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.accounts.account import Account
from app.accounts.pool import AccountPool
from app.errors import UpstreamError
from app.upstream.client import WorkersAI

log = logging.getLogger("app.accounts")
CHECK_TIMEOUT = 15.0  # seconds for the one call: a slow Cloudflare delays nothing but this log line


class CredentialCheck:
    """Started with the app (`start`), cancelled at shutdown (`close`); `done` once each account answered."""

    def __init__(self, pool: AccountPool, upstream: WorkersAI) -> None:
        self.pool = pool
        self.upstream = upstream
        self.done = False
        self._task: asyncio.Task[None] | None = None
        self._probed: dict[str, float] = {}  # when each account was last asked (pool clock)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="credential-check")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        pool = self.pool
        answers = await asyncio.gather(*(self._probe(account, " at start-up") for account in pool.accounts))
        self.done = True
        log.info("Cloudflare accepted the credentials of %d of %d account(s)", sum(answers), len(pool.accounts))
        while pool.recheck > 0:
            await asyncio.sleep(self._wait())
            now = pool.clock()
            due = [account for account in pool.rejected() if self._due(account) <= now]
            await asyncio.gather(*(self._probe(account, "") for account in due))

    def _due(self, account: Account) -> float:
        """When a marked account is asked again: at its recheck, and never twice within a recheck period (a
        check that could not reach Cloudflare leaves the mark, and its recheck time, as they were)."""
        return max(account.recheck_at, self._probed.get(account.id, 0.0) + self.pool.recheck)

    def _wait(self) -> float:
        """Until the first marked account is due, or a whole recheck period when none is marked."""
        marked = self.pool.rejected()
        if not marked:
            return self.pool.recheck
        return max(1.0, min(self._due(account) for account in marked) - self.pool.clock())

    async def _probe(self, account: Account, when: str) -> bool:
        """Asks Cloudflare about one account; True if it accepted the credentials."""
        self._probed[account.id] = self.pool.clock()
        try:
            await self.upstream.check_credentials(account.creds, timeout=CHECK_TIMEOUT)
        except UpstreamError as error:
            if self.pool.rejects(error):
                self.pool.take_out(account, error, when=when)
            else:
                log.warning("could not check the credentials of account %s%s: %s", account.masked, when, error.message)
            return False
        except Exception as error:  # the check must never take the gateway down
            reason = type(error).__name__
            log.warning("could not check the credentials of account %s%s: %s", account.masked, when, reason)
            return False
        self.pool.restore(account)
        return True


def report(pool: AccountPool, check: CredentialCheck | None) -> tuple[tuple[bool, str], dict[str, Any]]:
    """/readyz's `accounts` check and field, from one look at the pool (the check may mark an account while
    /readyz runs its other checks). The check fails when Cloudflare rejected every account, a sole account
    included: no call can succeed, and a load balancer should send the traffic elsewhere; one rejected
    account among usable ones only shows in the field. The field: how many, whether the start-up check is
    done (null: none runs, demo mode), and each account Cloudflare rejected."""
    rejected = pool.rejected()
    outcome = (True, "ok")
    if rejected and len(rejected) == len(pool.accounts):
        names = ", ".join(account.masked for account in rejected)
        outcome = (False, f"Cloudflare rejected every account ({names}): fix {pool.setting(rejected[0])}")
    return outcome, {
        "total": len(pool.accounts),
        "checked": check.done if check is not None else None,
        "rejected": [
            {
                "account": account.masked,
                "reason": account.disabled,
                "setting": pool.setting(account),
                "retry_in": pool.recheck_in([account]),
            }
            for account in rejected
        ],
    }

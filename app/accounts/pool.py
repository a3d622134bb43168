"""The account pool: which Cloudflare account runs a call, what happens when one fails, what each spent.

Selection: the usable account with the most of today's allowance left, round-robin among equals (the scan
starts one account further on each call), or the account a gateway key is pinned to.
Failover, decided before any byte reached the client (a call that raised; a stream that is open is never
retried): the daily allowance used up (4006/3036) marks the account exhausted until 00:00 UTC; a rejected
token (10000) or a wrong account id (7003) takes it out, logged as an error, and one call tries it again
every `recheck` seconds (ACCOUNT_RECHECK_SECONDS), so a fixed token or a passing fault brings it back (the
start-up check, `check.py`, marks the same way and probes a marked account again every `recheck` seconds);
every error that follows names the setting the operator used (CF_API_TOKEN / CF_ACCOUNT_ID, or CF_ACCOUNTS)
and says in Retry-After when the account is tried again; capacity (3040),
429, 5xx, timeouts and connection failures move to another account after a short backoff, at most
`retries` times. A client's mistake (any other 4xx) is never retried.
Rate limits: each account's per-model requests per minute (`rates.py`) are counted in sliding window
counters (`limiter.py`: in this process, or in Redis through the `limits` library, so replicas on one Redis
share them); an account at its limit is passed over, and when all are, the call waits for the first free
slot up to `max_wait` seconds, then gets a 429 with Retry-After.
Accounting: neurons (`neurons.py`), requests and errors by model and UTC day, in the shared state under
`usage:{account}:{YYYY-MM-DD}` (fields `neurons`, `h00`..`h23`, `req:{model}`, `err:{model}`,
`neu:{model}`); exhausted and disabled states under `account:{account}`. The counters gather in this
process and are written every SAVE_SECONDS (one write per account, whatever the traffic; readers flush
first), so a request's path holds no write and, with Redis, at most the one rate-limit round trip.

This file chooses and fails over; its nouns live beside it: `account.py` (an account, a model's route),
`refusals.py` (what a failure means, the errors clients see), `ledger.py` (the counters as stored and
shown), `keys.py` (per-key limits), and `calls.py` (the pool around the Workers AI client).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from app.accounts import ledger, refusals
from app.accounts import neurons as pricing
from app.accounts.account import Account, Route, key_id
from app.accounts.affinity import Affinity
from app.accounts.keys import KeyLimits, keys_used
from app.accounts.limiter import Limiter, LocalLimiter, SharedLimiter
from app.accounts.plans import MARK_SECONDS, PAID_PLAN_REQUIRED, PaidOnly, paid_plan_error
from app.accounts.rates import RateTable
from app.accounts.snapshot import Snapshot
from app.accounts.source import mask
from app.catalog import Catalog, Model, Task
from app.errors import GatewayError, UpstreamError
from app.ops.metrics import LATENCY_BUCKETS, Metrics
from app.ops.requests import CURRENT
from app.state.base import SharedState
from app.upstream.client import Credentials

log = logging.getLogger("app.accounts")
T = TypeVar("T")
REFRESH_SECONDS = 2.0  # how stale one replica's view of the others' counters and states may get
MAX_ROUTES = 4096  # models the pool keeps a looked-up entry for


class AccountPool:
    """The accounts of a managed gateway; `call` runs one upstream attempt function on the right one."""

    def __init__(
        self,
        accounts: list[Credentials],
        *,
        state: SharedState,
        catalog: Catalog,
        rates: RateTable | None = None,
        allowance: float = pricing.DAILY_FREE_NEURONS,
        pins: Mapping[str, str] | None = None,
        max_wait: float = 2.0,
        retries: int = 2,
        backoff: float = 0.1,
        key_rpm: int = 0,
        key_neurons: float = 0.0,
        recheck: float = 900.0,
        pooled: bool = False,
        plans: Mapping[str, str] | None = None,
        affinity_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not accounts:
            raise ValueError("an account pool needs at least one account")
        self.accounts = [Account(c.account_id, c, mask(c.account_id)) for c in accounts]
        self._by_id = {account.id: account for account in self.accounts}
        self.state = state
        self.catalog = catalog
        self.rates = rates or RateTable()
        self.allowance = allowance
        self.pins = {key_id(key): account for key, account in (pins or {}).items()}
        self.max_wait = max_wait
        self.retries = retries
        self.backoff = backoff
        self.key_rpm = key_rpm
        self.key_neurons = key_neurons
        self.clock = clock
        self.recheck = recheck
        self.pooled = pooled  # the accounts come from CF_ACCOUNTS (else CF_ACCOUNT_ID and CF_API_TOKEN)
        self.per_key = bool(self.pins or key_rpm or key_neurons)  # requests must say which key they came with
        self.cache_stats: Callable[[], dict[str, int]] | None = None  # the translation cache's hits and misses
        self.neurons_total = 0.0  # neurons counted by this process since it started
        self.neurons_estimated = 0.0  # the part counted at an estimated price (no price published)
        self.metrics: Metrics | None = None  # set by the app: failovers, retries, neurons, upstream time
        self.paid = PaidOnly(state, self._by_id, dict(plans or {}))  # plans.py: 5035 and paid-only models
        # Models the catalog knows need Workers Paid: an account stated free is never tried for them.
        self.paid.paid_models.update(model.id for model in catalog.models.values() if model.paid_only)
        # affinity.py: a conversation stays on one account (only a pool of several has a choice to make)
        many = len(self.accounts) > 1
        self.affinity = Affinity(state, ttl=affinity_seconds, clock=clock) if affinity_seconds > 0 and many else None
        # One process: counters here (the library's in-process storage costs 17x more a hit); else `limits`.
        self._local = LocalLimiter(clock) if state.backend == "memory" else None
        self._limiter: Limiter = self._local or SharedLimiter(state.limits_storage())
        self.keys = KeyLimits(state, self._limiter, rpm=key_rpm, neurons=key_neurons)  # keys.py
        self._next = 0
        self._defer = state.backend != "memory"
        self.ledger = ledger.Ledger(state, self.accounts, clock)  # ledger.py: the writes, off the request's path
        self._routes: dict[str, Route] = {}
        # The fast path (`ready`): one account, counted in this process.
        self._solo = self.accounts[0] if len(self.accounts) == 1 and self._local is not None else None
        self._take_slot: Callable[[str, int, float], bool] = self._local.take if self._local else _no_slot
        self._day = ""
        self._midnight = 0.0
        self._refreshed = 0.0
        self._due = 0.0  # when `call` next has periodic work: the day's end, or the next refresh
        self._refreshing: asyncio.Task[None] | None = None
        self._roll_day(clock())

    # -- the call ----------------------------------------------------------------------------------------

    def ready(self, model_id: str, creds: Credentials) -> Route | None:
        """The route of a call that may go at once to `route.account`, or None: `call` decides then. The fast
        path of a pool of one account with this process's counters and no per-key limits (the usual gateway),
        decided with no coroutine; the caller reports the outcome to `done` or `recover`."""
        now = self.clock()
        if now >= self._due:
            self._periodic(now)
        solo = self._solo
        if solo is None or creds.key or solo.recheck_at > now:
            return None
        route = self._routes.get(model_id) or self._route(model_id)
        if route.limit and not self._take_slot(route.solo_key, route.limit, now):
            return None
        return route

    def account(self, account_id: str) -> Account | None:
        """The pool's account `account_id` (a queued batch is polled on the account that took it)."""
        return self._by_id.get(account_id)

    def done(self, route: Route, started: float, payload: Any, result: object) -> None:
        """A call `ready` routed answered: its upstream time and, unless `result` is None (a stream, counted
        when it ends), what it cost: for a text answer with token counts, worked out here in one frame."""
        seconds = time.perf_counter() - started
        latency = route.latency
        if latency is not None:
            latency[bisect_left(LATENCY_BUCKETS, seconds)] += 1
            latency[-1] += seconds
        account = route.account
        assert account is not None
        record = CURRENT.get()
        if record is not None:
            record.account = account.masked
        if account.recheck_at:
            self._clear(account)
        if result is None:
            return
        per_token = route.per_token
        usage = result.get("usage") if per_token is not None and type(result) is dict else None
        if type(usage) is dict and "neurons" not in usage and "prompt_tokens_details" not in usage:
            prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            if type(prompt) is int and type(completion) is int:
                used = per_token[0] * prompt + per_token[1] * completion  # type: ignore[index]
            else:
                used = pricing.of_call(route.model, payload, result)
        else:
            used = pricing.of_call(route.model, payload, result)
        account.used += used
        self.neurons_total += used
        if route.model.estimated:
            self.neurons_estimated += used
        model_id = route.model.id
        tally = account.tally.get(model_id) or self.ledger.new_tally(account, model_id)
        tally[0] += 1
        tally[1] += used

    async def recover(self, route: Route, attempt: Callable[[Account], Awaitable[T]], error: UpstreamError) -> T:
        """A call `ready` routed failed: fail over as `call` would (`attempt` runs a further try)."""
        assert route.account is not None
        return await self._fail_over(route, attempt, route.account, error, None)

    async def call(self, model_id: str, attempt: Callable[[Account], Awaitable[T]], creds: Credentials) -> T:
        """Run `attempt` on the best account, failing over as the module says; raise what the client sees."""
        now = self.clock()
        if now >= self._due:
            self._periodic(now)
        route = self._routes.get(model_id) or self._route(model_id)
        pinned = self._by_id.get(self.pins.get(creds.key, "")) if creds.key else None  # admitted at the edge
        session = creds.session if self.affinity is not None and pinned is None else ""
        sticky = await self._sticky(route, session, now) if session and not creds.session_opens else None
        # The common case is decided without a coroutine: an account has a slot in this process's counters.
        account = sticky or self._take(route, now, pinned) or await self._choose(route, [], pinned)
        started = time.perf_counter()
        try:
            result = await attempt(account)
        except UpstreamError as error:
            return await self._fail_over(route, attempt, account, error, pinned, session)
        if route.latency is not None:
            seconds = time.perf_counter() - started
            route.latency[bisect_left(LATENCY_BUCKETS, seconds)] += 1
            route.latency[-1] += seconds
        if account.recheck_at:  # a marked account answered after all: usable again
            self._clear(account)
        if session:
            await self._stick(session, account)
        return result

    async def _sticky(self, route: Route, session: str, now: float) -> Account | None:
        """The account `session` last ran on, if it can serve this call now (with a rate-limit slot taken);
        else None, and the pool chooses as for any call."""
        assert self.affinity is not None
        found = self._by_id.get(await self.affinity.account_for(session) or "")
        if found is None or not found.usable(now) or self._blocked(found, route.model.id, now):
            return None
        limit = route.limit
        if limit:
            key = route.keys[found.id]
            free = self._local.take(key, limit, now) if self._local else await self._limiter.hit(key, limit)
            if not free:
                return None
        return found

    async def _stick(self, session: str, account: Account) -> None:
        if self.affinity is not None:
            try:
                await self.affinity.remember(session, account.id)
            except Exception as exc:  # the shared state failing costs the next turn its cache, not this answer
                log.warning("could not record session affinity: %s", type(exc).__name__)

    async def _fail_over(
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
            if not self._others(tried, pinned, model_id):
                if error.upstream_code == PAID_PLAN_REQUIRED and len(self.accounts) > 1:  # one: its own words
                    raise paid_plan_error(model_id, pinned=pinned is not None) from None
                if error.code in refusals.EXHAUSTED and len(self.accounts) > 1:  # one account: its own words
                    raise self._exhausted(self.clock(), pinned) from None
                if self.rejects(error):
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
            account = await self._choose(route, tried, pinned)
            started = time.perf_counter()
            try:
                result = await attempt(account)
            except UpstreamError as failed:
                error = failed
                continue
            if self.metrics is not None:
                self.metrics.upstream(model_id, time.perf_counter() - started)
            if account.recheck_at:
                self._clear(account)
            if session:  # the conversation moved: it stays on the account that answered
                await self._stick(session, account)
            return result

    def _route(self, model_id: str) -> Route:
        known = self.catalog.models.get(model_id)
        model = known or Model(model_id, Task.TEXT_GENERATION)
        latency = self.metrics.upstream_counts(model_id) if self.metrics is not None else None
        route = Route(model, self.rates.per_minute(model), self.accounts, latency, self._solo)
        # Only catalog models are kept: an id the catalog learns later (from /ai/models/search) then gets its
        # task and prices, and ids clients make up cannot grow the table.
        if known is not None and len(self._routes) < MAX_ROUTES:
            self._routes[model_id] = route
        return route

    def _periodic(self, now: float) -> None:
        if now >= self._midnight:
            self._roll_day(now)
        if self._defer and now - self._refreshed >= REFRESH_SECONDS:
            self._refresh_soon(now)

    def _clear(self, account: Account) -> None:
        account.exhausted_until, account.disabled, account.recheck_at = 0.0, "", 0.0
        log.warning("account %s answers again; back in the pool", account.masked)
        self.ledger.save_state(account)

    def restore(self, account: Account) -> None:
        """Cloudflare accepted a marked account's credentials again (the start-up check's recheck)."""
        if account.disabled or account.recheck_at:
            self._clear(account)

    rejects = staticmethod(refusals.rejects)

    def setting(self, account: Account) -> str:
        """The setting the operator must fix for a rejected account: the one they used."""
        return refusals.setting_to_fix(account, pooled=self.pooled)

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

    def rejected(self) -> list[Account]:
        """The accounts whose credentials Cloudflare rejected (until they answer again)."""
        return [account for account in self.accounts if account.disabled]

    def recheck_in(self, accounts: list[Account]) -> int:
        """Whole seconds until the first of `accounts` is tried again (at least 1: what Retry-After says)."""
        now = self.clock()
        return max(1, math.ceil(min(account.recheck_at for account in accounts) - now))

    def _paid_only(self, account: Account, model_id: str) -> None:
        """A 5035: this model, on this account, needs the paid plan; its other models keep serving."""
        now = self.clock()
        self.paid.mark(account.id, account.masked, model_id, now + max(MARK_SECONDS, self.recheck), now)
        self.ledger.later(self.paid.save(account.id, now))

    def _fail(self, account: Account, error: UpstreamError) -> bool:
        """Marks what the failure says about the account; True if another account may serve the call."""
        code = error.code
        now = self.clock()
        if code in refusals.EXHAUSTED:
            account.exhausted_until = self._midnight
            account.recheck_at = min(self._midnight, now + self.recheck)
            log.warning("account %s used up today's allowance; unused until 00:00 UTC", account.masked)
            self.ledger.save_state(account)
            return True
        if self.rejects(error):
            self.take_out(account, error)
            return True
        return code in refusals.TRANSIENT or refusals.transient_status(error.upstream_status)

    def _others(self, tried: list[Account], pinned: Account | None, model_id: str) -> bool:
        if pinned is not None:
            return False
        now = self.clock()
        return any(
            account.usable(now) and account not in tried and not self._blocked(account, model_id, now)
            for account in self.accounts
        )

    def _blocked(self, account: Account, model_id: str, now: float) -> bool:
        """`account` may not run `model_id` (it needs the paid plan): one set lookup for every other model."""
        return model_id in self.paid.paid_models and self.paid.blocked(account.id, model_id, now)

    def _take(self, route: Route, now: float, pinned: Account | None) -> Account | None:
        """The account to try first if one has a rate-limit slot now in this process's counters; None when the
        counters are shared (Redis), none is usable or all are at their limit (then `_choose` decides)."""
        local = self._local
        if local is None:
            return None
        limit = route.limit
        solo = self._solo
        if solo is not None and pinned is None:
            if solo.recheck_at <= now and (not limit or local.take(route.solo_key, limit, now)):
                return solo
            return None
        for account in self._ranked(now, [], pinned, route.model.id):
            if not limit or local.take(route.keys[account.id], limit, now):
                return account
        return None

    async def _choose(self, route: Route, tried: list[Account], pinned: Account | None) -> Account:
        """The account to try next, once it has a rate-limit slot for the model; waits up to `max_wait`."""
        limit = route.limit
        deadline = self.clock() + self.max_wait
        while True:
            now = self.clock()
            candidates = self._ranked(now, tried, pinned, route.model.id)
            if not candidates:
                raise self._none_left(now, pinned, route.model.id)
            if not limit:
                return candidates[0]
            for account in candidates:
                if await self._limiter.hit(route.keys[account.id], limit):
                    return account
            free_at = min([await self._limiter.free_at(route.keys[a.id], limit) for a in candidates])
            if free_at > deadline:
                raise refusals.rate_limited(route.model.id, limit, max(1, math.ceil(free_at - now)))
            await asyncio.sleep(max(0.01, free_at - now))

    def _ranked(self, now: float, tried: list[Account], pinned: Account | None, model_id: str) -> list[Account]:
        if pinned is not None:
            fits = pinned.usable(now) and pinned not in tried and not self._blocked(pinned, model_id, now)
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

    def _none_left(self, now: float, pinned: Account | None, model_id: str = "") -> GatewayError:
        accounts = [pinned] if pinned is not None else self.accounts
        if any(a.usable(now) and self._blocked(a, model_id, now) for a in accounts):  # the rest need Workers Paid
            return paid_plan_error(model_id, pinned=pinned is not None)
        if all(a.disabled for a in accounts):  # each passed over until its recheck
            return refusals.all_taken_out(accounts, self.setting(accounts[0]), self.recheck_in(accounts))
        return self._exhausted(now, pinned)

    def _rejected(self, account: Account, error: UpstreamError) -> UpstreamError:
        return refusals.rejected_error(account, error, self.setting(account), self.recheck_in([account]))

    def _exhausted(self, now: float, pinned: Account | None = None) -> UpstreamError:
        seconds = max(1, math.ceil(self._midnight - now))
        return refusals.exhausted_error(self.allowance, seconds, pinned=pinned is not None)

    async def admit(self, key: str) -> None:
        """Applies the per-key limits to one request with `key` (`app/caller.py`, once a request, on every
        route that takes a key): 429 past its requests a minute or its neurons today."""
        now = self.clock()
        if now >= self._due:
            self._periodic(now)  # the day may have ended: today's count, not yesterday's
        await self.keys.admit(key, now, self._day, self._midnight)

    # -- accounting --------------------------------------------------------------------------------------

    def charge(self, account: Account, model_id: str, payload: Any, result: object, creds: Credentials) -> None:
        """Count a call that succeeded: its request and the neurons its answer says or the prices give."""
        route = self._routes.get(model_id) or self._route(model_id)
        self._record(account, route, pricing.of_call(route.model, payload, result), creds.key)

    def charge_tokens(
        self, account: Account, model_id: str, usage: tuple[int, ...] | float, creds: Credentials
    ) -> None:
        """Count a stream that ended: `usage` as (prompt, completion[, cached]) tokens, or neurons as reported."""
        route = self._routes.get(model_id) or self._route(model_id)
        used = pricing.for_tokens(route.model, *usage) if isinstance(usage, tuple) else usage
        self._record(account, route, used, creds.key)

    def _record(self, account: Account, route: Route, used: float, key: str) -> None:
        model_id = route.model.id
        account.used += used
        self.neurons_total += used  # /metrics reads it at scrape time (nothing per request there)
        if route.model.estimated:
            self.neurons_estimated += used
        tally = account.tally.get(model_id) or self.ledger.new_tally(account, model_id)
        tally[0] += 1
        tally[1] += used
        if key and self.key_neurons:
            spent = {"neurons": used}
            self.ledger.add(keys_used(key, self._day), spent)

    def _count_error(self, account: Account, model_id: str) -> None:
        tally = account.tally.get(model_id) or self.ledger.new_tally(account, model_id)
        tally[0] += 1
        tally[2] += 1

    def _roll_day(self, now: float) -> None:
        self.ledger.close_day()  # what was counted before midnight goes to the day that ended
        day_start = now - now % ledger.DAY_SECONDS
        self._day = datetime.fromtimestamp(day_start, UTC).strftime("%Y-%m-%d")
        self._midnight = day_start + ledger.DAY_SECONDS
        for account in self.accounts:
            account.used = 0.0
            account.usage_key = f"usage:{account.id}:{self._day}"
            if account.exhausted_until and account.exhausted_until <= now:
                account.exhausted_until = 0.0
        self._set_due()

    def _set_due(self) -> None:
        self._due = min(self._midnight, self._refreshed + REFRESH_SECONDS) if self._defer else self._midnight

    def _refresh_soon(self, now: float) -> None:
        self._refreshed = now
        self._set_due()
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh())

    async def refresh(self) -> None:
        """Takes in what other workers and replicas wrote: each account's neurons today and its state."""
        await self.paid.refresh(self._by_id)
        for account in self.accounts:
            counters = await self.state.counters(f"usage:{account.id}:{self._day}")
            account.used = max(account.used, counters.get("neurons", 0.0))
            raw = await self.state.get(f"account:{account.id}")
            if raw:
                saved = orjson.loads(raw)
                if float(saved.get("recheck_at") or 0) > account.recheck_at:
                    account.exhausted_until = float(saved.get("exhausted_until") or 0)
                    account.disabled = str(saved.get("disabled") or "")
                    account.recheck_at = float(saved["recheck_at"])

    async def flush(self) -> None:
        """Writes the counters gathered so far and waits for every deferred write (readers, shutdown)."""
        await self.ledger.flush()

    # -- reading -----------------------------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        now = self.clock()
        if now >= self._midnight:
            self._roll_day(now)
        await self.flush()
        if self._defer:
            await self.refresh()
        statuses = []
        for account in self.accounts:
            counters = await self.state.counters(f"usage:{account.id}:{self._day}")
            statuses.append(ledger.status_of(account, counters, now, self.allowance, self.catalog))
        return Snapshot(
            generated_at=int(now),
            day=self._day,
            reset_at=int(self._midnight),
            accounts=tuple(statuses),
            backend=self.state.backend,
            cache=self.cache_stats() if self.cache_stats else {},
        )

    def states(self) -> dict[str, int]:
        """How many accounts are in each state (for /metrics, read at scrape time)."""
        now = self.clock()
        counts = {"ok": 0, "exhausted": 0, "disabled": 0}
        for account in self.accounts:
            counts[ledger.state_of(account, now)] += 1
        return counts


def _no_slot(key: str, per_minute: int, now: float) -> bool:
    return False


def _used(account: Account) -> float:
    return account.used

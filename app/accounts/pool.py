"""The account pool: which Cloudflare account runs a call, what happens when one fails, what each spent.

`AccountPool` is the pool as the rest of the app sees it: it runs a call (`ready` and `done` on the fast
path, `call` otherwise) and counts what it cost. The parts it is made of are the modules beside it:
`selection.py` (which account a call goes to: least used, round-robin, a key's pin, a conversation's
account, each account's per-model requests a minute), `failover.py` (what a failure marks, the retry on
another account, the error when none is left; worded in `refusals.py`), `today.py` (the UTC day counted in,
and the periodic work: the day's end, other replicas' counts), `ledger.py` (the counters as written and
shown: none is written on a request's path), `keys.py` (per-key limits), `account.py` (an account, a
model's `Route`), and `calls.py` (the pool around the Workers AI client).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from app.accounts import ledger, refusals
from app.accounts import neurons as pricing
from app.accounts.account import Account, Route, key_id
from app.accounts.affinity import Affinity
from app.accounts.failover import Failover
from app.accounts.keys import KeyLimits, keys_used
from app.accounts.plans import PaidOnly
from app.accounts.rates import RateTable
from app.accounts.selection import Selection
from app.accounts.snapshot import Snapshot
from app.accounts.source import mask
from app.accounts.today import Today
from app.catalog import Catalog, Model, Task
from app.errors import UpstreamError
from app.ops.metrics import LATENCY_BUCKETS, Metrics
from app.ops.requests import CURRENT
from app.state.base import SharedState
from app.upstream.client import Credentials

__all__ = ["AccountPool", "key_id"]

T = TypeVar("T")
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
        self.key_rpm = key_rpm
        self.key_neurons = key_neurons
        self.clock = clock
        self.recheck = recheck
        self.per_key = bool(self.pins or key_rpm or key_neurons)  # requests must say which key they came with
        self.neurons_total = 0.0  # neurons counted by this process since it started
        self.neurons_estimated = 0.0  # the part counted at an estimated price (no price published)
        self.paid = PaidOnly(state, self._by_id, dict(plans or {}))  # plans.py: 5035 and paid-only models
        # Models the catalog knows need Workers Paid: an account stated free is never tried for them.
        self.paid.paid_models.update(model.id for model in catalog.models.values() if model.paid_only)
        # affinity.py: a conversation stays on one account (only a pool of several has a choice to make)
        many = len(self.accounts) > 1
        self.affinity = Affinity(state, ttl=affinity_seconds, clock=clock) if affinity_seconds > 0 and many else None
        # selection.py: which account a call goes to, counting each account's calls a minute per model
        self.selection = Selection(
            self.accounts, self._by_id, self.paid, self.affinity, state, max_wait=max_wait, clock=clock
        )
        self.keys = KeyLimits(state, self.selection.limiter, rpm=key_rpm, neurons=key_neurons)  # keys.py
        self.ledger = ledger.Ledger(state, self.accounts, clock)  # ledger.py: the writes, off the request's path
        self.today = Today(state, self.accounts, self._by_id, self.paid, self.ledger, clock)  # today.py
        self.failover = Failover(  # failover.py
            self.selection, self.today, self.ledger, allowance, recheck, retries, backoff, pooled=pooled
        )
        self._routes: dict[str, Route] = {}
        # The fast path (`ready`): one account, counted in this process.
        self._solo = self.selection.solo
        local = self.selection.local
        self._take_slot: Callable[[str, int, float], bool] = local.take if local else _no_slot
        # The start-up check (check.py) and /readyz mark and read the accounts as a failed call does.
        failover = self.failover
        self.take_out, self.restore, self.rejected = failover.take_out, failover.restore, failover.rejected
        self.setting, self.recheck_in = failover.setting, failover.recheck_in

    @property
    def metrics(self) -> Metrics | None:
        """Set by the app: failovers, retries, neurons and upstream time are counted in it."""
        return self.failover.metrics

    @metrics.setter
    def metrics(self, metrics: Metrics | None) -> None:
        self.failover.metrics = metrics

    # -- the call ----------------------------------------------------------------------------------------

    def ready(self, model_id: str, creds: Credentials) -> Route | None:
        """The route of a call that may go at once to `route.account`, or None: `call` decides then. The fast
        path of a pool of one account with this process's counters and no per-key limits (the usual gateway),
        decided with no coroutine; the caller reports the outcome to `done` or `recover`."""
        now = self.clock()
        if now >= self.today.due:
            self.today.periodic(now)
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
            self.failover.clear(account)
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
        return await self.failover.fail_over(route, attempt, route.account, error, None)

    async def call(self, model_id: str, attempt: Callable[[Account], Awaitable[T]], creds: Credentials) -> T:
        """Run `attempt` on the best account, failing over as `failover.py` says; raise what the client sees."""
        now = self.clock()
        if now >= self.today.due:
            self.today.periodic(now)
        route = self._routes.get(model_id) or self._route(model_id)
        pinned = self._by_id.get(self.pins.get(creds.key, "")) if creds.key else None  # admitted at the edge
        session = creds.session if self.affinity is not None and pinned is None else ""
        selection = self.selection
        sticky = await selection.sticky(route, session, now) if session and not creds.session_opens else None
        # The common case is decided without a coroutine: an account has a slot in this process's counters.
        account = sticky or selection.take(route, now, pinned) or await self.failover.choose(route, [], pinned)
        started = time.perf_counter()
        try:
            result = await attempt(account)
        except UpstreamError as error:
            return await self.failover.fail_over(route, attempt, account, error, pinned, session)
        if route.latency is not None:
            seconds = time.perf_counter() - started
            route.latency[bisect_left(LATENCY_BUCKETS, seconds)] += 1
            route.latency[-1] += seconds
        if account.recheck_at:  # a marked account answered after all: usable again
            self.failover.clear(account)
        if session:
            await selection.stick(session, account)
        return result

    async def admit(self, key: str) -> None:
        """Applies the per-key limits to one request with `key` (`app/caller.py`, once a request, on every
        route that takes a key): 429 past its requests a minute or its neurons today."""
        now = self.clock()
        today = self.today
        if now >= today.due:
            today.periodic(now)  # the day may have ended: today's count, not yesterday's
        await self.keys.admit(key, now, today.date, today.midnight)

    def _route(self, model_id: str) -> Route:
        known = self.catalog.models.get(model_id)
        model = known or Model(model_id, Task.TEXT_GENERATION)
        metrics = self.failover.metrics
        latency = metrics.upstream_counts(model_id) if metrics is not None else None
        route = Route(model, self.rates.per_minute(model), self.accounts, latency, self._solo)
        # Only catalog models are kept: an id the catalog learns later (from /ai/models/search) then gets its
        # task and prices, and ids clients make up cannot grow the table.
        if known is not None and len(self._routes) < MAX_ROUTES:
            self._routes[model_id] = route
        return route

    rejects = staticmethod(refusals.rejects)  # the start-up check asks it of the errors it gets

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
            self.ledger.add(keys_used(key, self.today.date), spent)

    async def refresh(self) -> None:
        """Takes in what other workers and replicas wrote: each account's neurons today and its state."""
        await self.today.refresh()

    async def flush(self) -> None:
        """Writes the counters gathered so far and waits for every deferred write (readers, shutdown)."""
        await self.ledger.flush()

    # -- reading -----------------------------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        now = self.clock()
        today = self.today
        if now >= today.midnight:
            today.roll(now)
        await self.flush()
        if today.shared:
            await today.refresh()
        statuses = []
        for account in self.accounts:
            counters = await self.state.counters(account.usage_key)
            statuses.append(ledger.status_of(account, counters, now, self.allowance, self.catalog))
        return Snapshot(
            generated_at=int(now),
            day=today.date,
            reset_at=int(today.midnight),
            accounts=tuple(statuses),
            backend=self.state.backend,
            cache={},  # the translation cache's counts are added by source.read_snapshot, which holds it
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

"""The ledger: how the pool's counts are written to the shared state, and read back for the status page.

Per account and UTC day, `usage:{account}:{YYYY-MM-DD}` holds `neurons`, `h00`..`h23` (neurons by hour),
`req:{model}`, `err:{model}` and `neu:{model}`; an account's marks (exhausted, taken out) are under
`account:{account}`. The pool (app/accounts/pool.py) gathers a tally per model in the process
(`Account.tally`: requests, neurons, errors) and this writes it every SAVE_SECONDS, one write per account
whatever the traffic (readers flush first): a request's path holds no write and, with Redis, at most the one
rate-limit round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson

from app.accounts.account import Account
from app.accounts.snapshot import AccountStatus, ModelUsage, State
from app.catalog import Catalog
from app.state.base import SharedState
from app.state.batch import CounterBatch

log = logging.getLogger("app.accounts")

DAY_SECONDS = 86_400
USAGE_TTL = 2 * DAY_SECONDS  # today's counters outlive today, for a late reader
SAVE_SECONDS = 0.1  # how long usage counters gather in this process before they are written
_HOURS = tuple(f"h{hour:02d}" for hour in range(24))


class Ledger:
    """The pool's writes to the shared state: tallies gathered in the process and written every
    SAVE_SECONDS, account states, per-key counters (batched with Redis), each as a task off the request's
    path; `flush` waits for all of them (readers, shutdown)."""

    def __init__(self, state: SharedState, accounts: list[Account], clock: Callable[[], float]) -> None:
        self.state = state
        self.accounts = accounts
        self.clock = clock
        self._batch = CounterBatch(state) if state.backend != "memory" else None  # per-key counters, together
        self._pending: set[asyncio.Task[None]] = set()
        self._save_timer: asyncio.TimerHandle | None = None  # armed while tallies wait to be written

    def new_tally(self, account: Account, model_id: str) -> list[float]:
        """A model's counters in `account` since the last save; the save is due at most SAVE_SECONDS later."""
        tally = account.tally[model_id] = [0, 0.0, 0]
        if self._save_timer is None:
            self._save_timer = asyncio.get_running_loop().call_later(SAVE_SECONDS, self.save)
        return tally

    def save(self, hour: str = "") -> None:
        """Writes what each account counted since the last save: one `add` to its day's ledger, the neurons
        credited to the current hour (the tallies are at most SAVE_SECONDS old)."""
        self._save_timer = None
        hour = hour or hour_of(self.clock())
        for account in self.accounts:
            if account.tally:
                tallies, account.tally = account.tally, {}
                self.later(self.state.add(account.usage_key, fields_of(tallies, hour), USAGE_TTL))

    def close_day(self) -> None:
        """The UTC day ended: what was counted before midnight is written to the day that ended."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self.save("h23")

    def save_state(self, account: Account) -> None:
        """An account's marks (exhausted, taken out, when it is checked again), for the other replicas."""
        marks = {
            "exhausted_until": account.exhausted_until,
            "disabled": account.disabled,
            "recheck_at": account.recheck_at,
        }
        ttl = max(1.0, account.recheck_at - self.clock())
        self.later(self.state.set(f"account:{account.id}", orjson.dumps(marks), ttl))

    def add(self, key: str, fields: dict[str, float]) -> None:
        """Adds to counters kept for today and a day after (batched when the state is shared)."""
        if self._batch is not None:
            self._batch.add(key, fields, USAGE_TTL)
        else:
            self.later(self.state.add(key, fields, USAGE_TTL))

    def later(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not record account usage: %s", type(task.exception()).__name__)

    async def flush(self) -> None:
        """Writes the counters gathered so far and waits for every deferred write."""
        if self._save_timer is not None:
            self._save_timer.cancel()
        self.save()
        if self._batch is not None:
            await self._batch.flush()
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


def hour_of(now: float) -> str:
    """The field of the UTC hour `now` falls in (`h00`..`h23`)."""
    return _HOURS[int(now % DAY_SECONDS) // 3600]


def fields_of(tallies: dict[str, list[float]], hour: str) -> dict[str, float]:
    """One account's tallies since the last save, as the fields added to its day's counters; the neurons
    are credited to `hour`."""
    fields: dict[str, float] = {}
    total = 0.0
    for model_id, (requests, used, errors) in tallies.items():
        fields[f"req:{model_id}"] = requests
        if used:
            fields[f"neu:{model_id}"] = used
            total += used
        if errors:
            fields[f"err:{model_id}"] = errors
    if total:
        fields["neurons"] = total
        fields[hour] = total
    return fields


def state_of(account: Account, now: float) -> State:
    return "disabled" if account.disabled else "exhausted" if account.exhausted_until > now else "ok"


def status_of(
    account: Account, counters: dict[str, float], now: float, allowance: float, catalog: Catalog
) -> AccountStatus:
    """What the status page and /v1/billing show of one account: today's counters as the state holds them."""
    used = max(account.used, counters.get("neurons", 0.0))
    state = state_of(account, now)
    return AccountStatus(
        id=account.masked,
        state=state,
        neurons_used=round(used, 3),
        neurons_left=round(max(0.0, allowance - used), 3) if state == "ok" else 0.0,
        daily_allowance=allowance,
        until=int(account.exhausted_until) if state == "exhausted" else None,
        reason=account.disabled,
        hourly=tuple(round(counters.get(hour, 0.0), 3) for hour in _HOURS),
        models=_models(counters, catalog),
    )


def _models(counters: dict[str, float], catalog: Catalog) -> tuple[ModelUsage, ...]:
    names = [name[4:] for name in counters if name.startswith("req:")]
    rows = [
        ModelUsage(
            name,
            int(counters.get(f"req:{name}", 0)),
            int(counters.get(f"err:{name}", 0)),
            round(counters.get(f"neu:{name}", 0.0), 3),
            estimated=_estimated(catalog, name),
        )
        for name in names
    ]
    return tuple(sorted(rows, key=lambda row: (-row.requests, row.model)))


def _estimated(catalog: Catalog, model_id: str) -> bool:
    """Whether `model_id`'s neurons are counted at the gateway's estimate (Cloudflare publishes no price)."""
    model = catalog.models.get(model_id)
    return model is not None and model.estimated

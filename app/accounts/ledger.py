"""The ledger: how the pool's counts are kept in the shared state, and read back for the status page.

Per account and UTC day, `usage:{account}:{YYYY-MM-DD}` holds `neurons`, `h00`..`h23` (neurons by hour),
`req:{model}`, `err:{model}` and `neu:{model}`. The pool gathers a tally per model in the process
(`Account.tally`: requests, neurons, errors) and writes it every SAVE_SECONDS (app/accounts/pool.py).
"""

from __future__ import annotations

from app.accounts.account import Account
from app.accounts.snapshot import AccountStatus, ModelUsage, State
from app.catalog import Catalog

DAY_SECONDS = 86_400
USAGE_TTL = 2 * DAY_SECONDS  # today's counters outlive today, for a late reader
SAVE_SECONDS = 0.1  # how long usage counters gather in this process before they are written
_HOURS = tuple(f"h{hour:02d}" for hour in range(24))


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

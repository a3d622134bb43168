"""One account of the pool, and what the pool keeps per model for every call (app/accounts/pool.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from app.accounts import neurons as pricing
from app.catalog import Model, Task
from app.upstream.client import Credentials


def key_id(key: str) -> str:
    """A gateway key as counters name it: a short hash, never the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(slots=True, eq=False)
class Account:
    id: str
    creds: Credentials
    masked: str
    exhausted_until: float = 0.0  # Unix time of the reset it waits for; 0: not exhausted
    disabled: str = ""  # why it was taken out ("" while usable)
    used: float = 0.0  # neurons used today, as this process knows it
    recheck_at: float = 0.0  # a marked account is passed over until then, then one call checks it again
    usage_key: str = ""  # today's counters: `usage:{id}:{YYYY-MM-DD}`
    # per model since the last save: [requests, neurons, errors] (written every SAVE_SECONDS)
    tally: dict[str, list[float]] = field(default_factory=dict)

    def usable(self, now: float) -> bool:
        return self.recheck_at <= now


class Route:
    """What the pool needs of a model on every call, looked up once: its catalog entry, its per-minute limit,
    the rate-limit counter key of each account, the upstream-time buckets, the neurons a prompt and a
    completion token cost (text models), and the account a pool of one sends every call to."""

    __slots__ = ("account", "keys", "latency", "limit", "model", "per_token", "solo_key")

    def __init__(
        self, model: Model, limit: int, accounts: list[Account], latency: list[float] | None, solo: Account | None
    ) -> None:
        self.model = model
        self.limit = limit
        self.keys = {account.id: f"{account.id}/{model.id}" for account in accounts}
        self.solo_key = self.keys[accounts[0].id]
        self.latency = latency
        self.account = solo
        text = model.task is Task.TEXT_GENERATION or model.task is Task.IMAGE_TO_TEXT
        self.per_token = (pricing.for_tokens(model, 1, 0), pricing.for_tokens(model, 0, 1)) if text else None

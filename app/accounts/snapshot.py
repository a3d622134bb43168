"""What the account pool reports about itself: the one seam between the pool and its readers.

The status page (`/status`, `/status.json`), OneAPI's billing calls and `/metrics` read a `Snapshot`
from `Gateway.accounts.snapshot()` and never touch the pool's internals. Every figure is for the current
UTC day (Workers AI's free allowance resets at 00:00 UTC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

State = Literal["ok", "exhausted", "disabled"]


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """One model's use on one account today."""

    model: str
    requests: int = 0
    errors: int = 0
    neurons: float = 0.0
    estimated: bool = False  # the neurons are counted at the gateway's estimate: Cloudflare publishes no price


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """One account as a person may see it: the id masked, never the token."""

    id: str  # the masked account id, e.g. "a1b2…f9e0"
    state: State
    neurons_used: float
    neurons_left: float
    daily_allowance: float
    until: int | None = None  # exhausted: Unix time of the next 00:00 UTC; else None
    reason: str = ""  # disabled: why (a rejected token, a wrong account id), in words for the operator
    hourly: tuple[float, ...] = (0.0,) * 24  # neurons used in each UTC hour of today, h00..h23
    models: tuple[ModelUsage, ...] = ()  # most requests first


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every account plus the gateway-wide figures, as of `generated_at` (Unix seconds)."""

    generated_at: int
    day: str  # the UTC day the figures are for, YYYY-MM-DD
    reset_at: int  # Unix time of the next 00:00 UTC
    accounts: tuple[AccountStatus, ...]
    backend: str = "memory"  # where the counters live: "memory" or "redis"
    cache: dict[str, int] = field(default_factory=dict)  # translation cache: {"hits": n, "misses": n}
    neurons_saved: float = 0.0  # what today's answers from the response cache would have cost (every replica's)

    @property
    def neurons_used(self) -> float:
        return sum(a.neurons_used for a in self.accounts)

    @property
    def neurons_left(self) -> float:
        return sum(a.neurons_left for a in self.accounts if a.state != "disabled")

    @property
    def daily_allowance(self) -> float:
        return sum(a.daily_allowance for a in self.accounts if a.state != "disabled")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["neurons_used"] = round(self.neurons_used, 3)
        data["neurons_left"] = round(self.neurons_left, 3)
        data["neurons_saved"] = round(self.neurons_saved, 3)
        data["daily_allowance"] = self.daily_allowance
        return data

"""Per-key limits (GATEWAY_KEY_RPM, GATEWAY_KEY_NEURONS_PER_DAY): applied once a request, on every route
that takes a key (app/caller.py through `AccountPool.admit`). A key is named by its hash (`key_id`), never
itself; its neurons today are counted under `keyuse:{key}:{YYYY-MM-DD}` in the shared state."""

from __future__ import annotations

import math

from app.accounts.limiter import Limiter
from app.accounts.refusals import too_many
from app.state.base import SharedState


def keys_used(key: str, day: str) -> str:
    """Where a key's neurons of `day` are counted."""
    return f"keyuse:{key}:{day}"


class KeyLimits:
    """A key's requests a minute (sliding window, in the pool's limiter) and its neurons a day."""

    def __init__(self, state: SharedState, limiter: Limiter, *, rpm: int, neurons: float) -> None:
        self.state = state
        self.limiter = limiter  # the pool's: in this process, or shared through Redis
        self.rpm = rpm
        self.neurons = neurons

    async def admit(self, key: str, now: float, day: str, midnight: float) -> None:
        """429 past the key's requests a minute or its neurons today (`day`, which ends at `midnight`)."""
        if self.rpm:
            if not await self.limiter.hit(f"key/{key}", self.rpm):
                wait = max(1, math.ceil(await self.limiter.free_at(f"key/{key}", self.rpm) - now))
                raise too_many(
                    f"This key is limited to {self.rpm} requests a minute (GATEWAY_KEY_RPM); retry in {wait} s.",
                    "rate_limit_exceeded",
                    wait,
                )
        if self.neurons:
            used = (await self.state.counters(keys_used(key, day))).get("neurons", 0.0)
            if used >= self.neurons:
                seconds = max(1, math.ceil(midnight - now))
                raise too_many(
                    f"This key has used its {self.neurons:,.0f} neurons for today (GATEWAY_KEY_NEURONS_PER_DAY); "
                    f"the count starts again at 00:00 UTC, in {seconds} s.",
                    "daily_limit_exceeded",
                    seconds,
                )

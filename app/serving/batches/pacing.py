"""How fast batch lines may start: only while today's neurons, over every account of the pool, are under the
batches' share of the day's allowance (BATCH_DAILY_NEURON_SHARE). Past it a batch waits for the 00:00 UTC
reset, so interactive users keep the rest of the day and a large batch finishes over several days inside
the free tier. It reads the pool's own ledger (its public `snapshot`), so neurons spent by interactive
requests, by other workers and replicas (with Redis) and by earlier batch lines all count."""

from __future__ import annotations

from typing import Any, Protocol


class Ledger(Protocol):
    async def snapshot(self) -> Any: ...


class Pacer:
    def __init__(self, ledger: Ledger | None, share: float) -> None:
        self.ledger = ledger
        self.share = share

    async def wait_until(self) -> int | None:
        """None when a line may start now; else when today's allowance starts again (Unix time)."""
        if self.ledger is None:
            return None
        snapshot = await self.ledger.snapshot()
        used = sum(account.neurons_used for account in snapshot.accounts)
        allowance = sum(account.daily_allowance for account in snapshot.accounts)
        if used < self.share * allowance:
            return None
        reset: int = snapshot.reset_at
        return reset

"""Where the readers (status page, billing calls) get a Snapshot: the pool, or an empty one without it."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

from app.accounts.snapshot import Snapshot
from app.cf_accounts import DEMO_ACCOUNT_ID

DAY = 86_400


class SnapshotSource(Protocol):
    """What the readers need of the account pool (`Gateway.accounts`)."""

    async def snapshot(self) -> Snapshot: ...


class CacheCounts(Protocol):
    hits: int
    misses: int


def mask(account_id: str) -> str:
    """An account id as a person may see it: its first and last four characters (a short id: nothing of
    it). The demo account is no secret and says what it is."""
    if account_id == DEMO_ACCOUNT_ID:
        return account_id  # one word, as log lines want it
    return f"{account_id[:4]}…{account_id[-4:]}" if len(account_id) > 8 else "…"


def empty_snapshot(now: float | None = None) -> Snapshot:
    """Today with no accounts: what a gateway without a pool (passthrough mode) reports."""
    moment = int(time.time() if now is None else now)
    return Snapshot(
        generated_at=moment,
        day=time.strftime("%Y-%m-%d", time.gmtime(moment)),
        reset_at=moment - moment % DAY + DAY,
        accounts=(),
    )


async def read_snapshot(source: SnapshotSource | None, cache: object = None) -> Snapshot:
    """The pool's snapshot (an empty one without a pool), with the translation cache's counts when `cache`
    keeps them (the pool does not know the translator)."""
    snapshot = empty_snapshot() if source is None else await source.snapshot()
    if not snapshot.cache and isinstance(getattr(cache, "hits", None), int):
        counts: CacheCounts = cache  # type: ignore[assignment]
        snapshot = replace(snapshot, cache={"hits": counts.hits, "misses": counts.misses})
    return snapshot

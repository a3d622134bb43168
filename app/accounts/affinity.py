"""Session affinity: which account a conversation last ran on, so its next turn goes there too and finds
Workers AI's prefix cache warm (docs/accounts.md, "Session affinity").

A session (`convert/affinity.py`) maps to an account id for `ttl` seconds after its last turn
(SESSION_AFFINITY_SECONDS). In one process the map is an LRU of at most `max_sessions` entries. With a shared
backend (Redis) the map lives there under `affinity:{hash of the session}`, so replicas agree: each turn reads
it (one round trip) and writes it when the account changed or the entry is past a quarter of its life; the
LRU then only remembers what this process last wrote. An account that can no longer serve the conversation
(exhausted, rejected, rate-limited, paid-only model) breaks the affinity: the pool picks another as usual,
and the session sticks to that one from then on.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from app.state.base import SharedState

MAX_SESSIONS = 65_536


class Affinity:
    def __init__(
        self,
        state: SharedState,
        *,
        ttl: float,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.clock = clock
        self.shared = state.backend != "memory"
        self._local: OrderedDict[str, tuple[str, float]] = OrderedDict()  # session -> (account, written at)

    @staticmethod
    def _key(session: str) -> str:
        return "affinity:" + hashlib.sha256(session.encode()).hexdigest()[:32]

    async def account_for(self, session: str) -> str | None:
        """The account `session` last ran on, if that was less than `ttl` seconds ago."""
        if self.shared:
            raw = await self.state.get(self._key(session))
            return raw.decode() if raw else None
        entry = self._local.get(session)
        if entry is None:
            return None
        if self.clock() - entry[1] >= self.ttl:
            del self._local[session]
            return None
        self._local.move_to_end(session)
        return entry[0]

    async def remember(self, session: str, account: str) -> None:
        """`session` ran on `account`: its next turn goes there while that account can serve it."""
        now = self.clock()
        entry = self._local.get(session)
        if self.shared and entry is not None and entry[0] == account and now - entry[1] < self.ttl / 4:
            self._local.move_to_end(session)
            return  # written recently with the same account: Redis still holds it
        self._local[session] = (account, now)
        self._local.move_to_end(session)
        while len(self._local) > self.max_sessions:
            self._local.popitem(last=False)
        if self.shared:
            await self.state.set(self._key(session), account.encode(), self.ttl)

    def __len__(self) -> int:
        return len(self._local)

"""State every worker and replica must agree on: account states, counters, stored objects.

`SharedState` is the one interface; `MemoryState` keeps it in this process (one worker needs nothing
else). A Redis implementation (REDIS_URL) stands behind the same interface for several workers or replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.state.base import SharedState
from app.state.memory import MemoryState

if TYPE_CHECKING:
    from app.config import Settings

__all__ = ["MemoryState", "SharedState", "open_state"]


def open_state(settings: Settings) -> SharedState:
    """The app-wide state the settings ask for: Redis when REDIS_URL is set, else this process."""
    if not settings.redis_url:
        return MemoryState()
    from app.state.redis import RedisState  # the redis client is only imported when it is used

    return RedisState(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout_seconds)

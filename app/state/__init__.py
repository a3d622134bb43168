"""State every worker and replica must agree on: account states, counters, stored objects.

`SharedState` is the one interface; `MemoryState` keeps it in this process (one worker needs nothing
else). A Redis implementation (REDIS_URL) stands behind the same interface for several workers or replicas.
"""

from __future__ import annotations

from app.state.base import SharedState
from app.state.memory import MemoryState

__all__ = ["MemoryState", "SharedState"]

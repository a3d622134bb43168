"""Per-app emulator state (kept on app.state, so two emulators in one process stay independent)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request

from app.emulator.faults import FaultQueue
from app.emulator.plans import Plans, PrefixCache
from app.emulator.queue import Queue
from app.emulator.script import Script

LOG_SIZE = 100


class RequestLog:
    """The last LOG_SIZE requests received under /client/v4, for tests to inspect."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)

    def record(self, request: Request, body: bytes) -> None:
        content_type = request.headers.get("content-type", "")
        parsed: Any = None
        if "json" in content_type or body[:1] in (b"{", b"["):
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                parsed = None
        self._entries.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": {key.lower(): value for key, value in request.headers.items()},
                "content_type": content_type,
                "body_json": parsed,
                "body_size": len(body),
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class EmulatorState:
    token: str | None
    account_id: str | None
    faults: FaultQueue = field(default_factory=FaultQueue)
    log: RequestLog = field(default_factory=RequestLog)
    script: Script = field(default_factory=Script)  # scripted replies of text-generation models
    agreed: set[str] = field(default_factory=set)  # accounts that accepted the llama-3.2 vision terms
    initial_free: tuple[str, ...] = ()  # accounts on the free plan from start-up (`--free-accounts`)
    plans: Plans = field(default_factory=Plans)  # free accounts and paid-only models (5035)
    prefixes: PrefixCache = field(default_factory=PrefixCache)  # each session's last prompt (cached tokens)
    queue: Queue = field(default_factory=Queue)  # the asynchronous batch queue (`?queueRequest=true`)
    # How event streams ended: "completed", "cut" (by a fault) or "disconnected" (the client went away).
    streams: dict[str, int] = field(default_factory=lambda: {"completed": 0, "cut": 0, "disconnected": 0})

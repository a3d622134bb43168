"""Server-sent events, written by hand: `data: <json>\n\n` frames ending with `data: [DONE]`.

sse-starlette costs 2.4x the throughput of frames written directly (performance.md B2).
"""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"
DONE_DATA = b"[DONE]"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MEDIA_TYPE = "text/event-stream"


def frame(payload: Any) -> bytes:
    """One event carrying `payload` as JSON."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"

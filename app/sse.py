"""Server-sent events, written by hand: `data: <json>\n\n` frames ending with `data: [DONE]`.

sse-starlette costs 2.4x the throughput of frames written directly (performance.md B2).
"""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"
DONE_DATA = b"[DONE]"


def frame(payload: Any) -> bytes:
    """One event carrying `payload` as JSON."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class EventDecoder:
    """Splits an SSE byte stream into each event's data, however the bytes arrive in chunks.

    Reading whole chunks and splitting on the blank line costs a fraction of reading line by line.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        *events, self._buffer = buffer.split(b"\n\n")
        found = []
        for event in events:
            if event.startswith(b"data: ") and b"\n" not in event:  # one `data:` line: nearly every event
                found.append(event[6:])
            elif (data := _data(event)) is not None:
                found.append(data)
        return found

    def flush(self) -> list[bytes]:
        """The last event of a stream that ended without its blank line."""
        rest, self._buffer = self._buffer.strip(b"\r\n"), b""
        data = _data(rest) if rest else None
        return [data] if data is not None else []


def _data(event: bytes) -> bytes | None:
    lines = [line[6:] if line[5:6] == b" " else line[5:] for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None

"""What a task handler gets (Call) and gives back (an Output); the routes turn Outputs into responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from app.emulator.envelope import ai_error
from app.emulator.models import ModelSpec
from app.emulator.plans import PrefixCache
from app.emulator.script import Script
from app.emulator.validation import mismatch


def decode_json(raw: bytes) -> Any:
    """A body decoded as JSON; a non-JSON body fails like the schema does for a binary string."""
    if not raw.strip():
        raise ai_error(3003, "Request is missing headers or body: body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise mismatch("/", "binary", "object") from None


@dataclass(frozen=True)
class Call:
    """One run of a model: the raw input plus the per-account state a handler may need."""

    spec: ModelSpec
    raw: bytes
    content_type: str
    account: str = ""
    agreed: set[str] = field(default_factory=set)  # accounts that accepted the llama-3.2 vision terms
    script: Script = field(default_factory=Script)  # replies a test queued (text generation only)
    session: str = ""  # the request's `x-session-affinity`
    prefixes: PrefixCache | None = None  # where a session's last prompt is kept (text generation)

    @property
    def is_json(self) -> bool:
        return "json" in self.content_type or (not self.content_type and self.raw.lstrip()[:1] in (b"{", b"["))

    def json(self) -> Any:
        return decode_json(self.raw)


@dataclass(frozen=True)
class JsonResult:
    """A JSON result, sent inside the success envelope."""

    result: Any


@dataclass(frozen=True)
class BinaryResult:
    """Raw bytes (images, audio), sent without an envelope."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class EventStream:
    """Server-sent events, already framed; the route paces them and applies stream faults."""

    events: list[bytes]


@dataclass(frozen=True)
class PlainJson:
    """A JSON body sent as-is, without the envelope (the OpenAI-compatible /ai/v1 endpoints)."""

    body: Any


Output = JsonResult | BinaryResult | EventStream | PlainJson

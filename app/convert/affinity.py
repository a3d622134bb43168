"""Which conversation a request belongs to: the session id the account pool keeps on one account and the
gateway sends Workers AI as `x-session-affinity` (docs/accounts.md, "Session affinity").

Workers AI caches the prefill of a prompt's prefix per account and model instance; a conversation whose turns
land on different accounts pays full price for its whole history every turn. The session is, in order: the
client's own `x-session-affinity` header (sent on as it is), the Responses API's `prompt_cache_key`, the
`user` field (Anthropic: `metadata.user_id`), else a fingerprint of the conversation's opening (its leading
system messages and first user message), which every later turn repeats. A Responses request with
`previous_response_id` is rebuilt from the stored conversation, so it has its first turn's fingerprint.
Derived ids are hashes: no text of the prompt or of the client's fields leaves in them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

HEADER = "x-session-affinity"  # what clients send; Workers AI reads the same name (upstream.client.SESSION_HEADER)
HEADER_BYTES = HEADER.encode()
# A client's header value is sent on as it is when it is a plain token of sane length; else it is hashed.
_PLAIN = re.compile(r"[A-Za-z0-9._:/=@+-]{1,128}")
_OPENING_ROLES = frozenset({"system", "developer"})


def _hashed(kind: str, value: bytes) -> str:
    return "gw-" + hashlib.sha256(kind.encode() + b"\0" + value).hexdigest()[:32]


def from_header(value: str | None) -> str:
    """The client's `x-session-affinity`, as it may travel on ("" when absent or blank)."""
    if not value or not (value := value.strip()):
        return ""
    return value if _PLAIN.fullmatch(value) else _hashed("header", value.encode())


def opening(messages: Sequence[Any]) -> list[Any]:
    """The messages every turn of a conversation starts with: leading system/developer messages and the
    first message after them."""
    head: list[Any] = []
    for message in messages:
        head.append(message)
        if not (isinstance(message, dict) and message.get("role") in _OPENING_ROLES):
            break
    return head


class Session(NamedTuple):
    id: str  # "" when nothing identifies one
    # The request opens its conversation (a fingerprint, and no answer in the messages yet): the pool places it
    # as any call and remembers where, so that identical one-off requests still spread over the accounts.
    opens: bool = False


NO_SESSION = Session("")


def session_of(
    header: str | None,
    *,
    derive: bool = True,
    cache_key: str | None = None,
    user: str | None = None,
    messages: Sequence[Any] | None = None,
) -> Session:
    """The session of a request. `messages`: the Workers AI payload's messages (a list of dicts, the same
    shape for every dialect). Without `derive` (no pool of accounts to choose from) only the client's header
    counts: nothing is hashed on the hot path for no use."""
    given = from_header(header)
    if given:
        return Session(given)
    if not derive:
        return NO_SESSION
    if cache_key:
        return Session(_hashed("cache_key", cache_key.encode()))
    if user:
        return Session(_hashed("user", user.encode()))
    if messages:
        fingerprint = _hashed("opening", orjson.dumps(opening(messages), option=orjson.OPT_SORT_KEYS))
        return Session(fingerprint, opens=not any(_answered(message) for message in messages))
    return NO_SESSION


def _answered(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") in ("assistant", "tool")

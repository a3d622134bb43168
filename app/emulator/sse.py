"""Server-sent event framing and the random `p` padding Workers AI adds to stream events."""

from __future__ import annotations

import random
import string
from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"
_ALPHABET = string.ascii_lowercase + string.digits


def frame(event: Any) -> bytes:
    return b"data: " + orjson.dumps(event) + b"\n\n"


def padding() -> str:
    """Random-length base36 padding, as Workers AI sends against the token-length side channel."""
    return "".join(random.choices(_ALPHABET, k=random.randint(1, 40)))

"""The emulator's tokenizer: a token is a run of non-space characters with the whitespace before it."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\s*\S+")

MESSAGE_OVERHEAD = 3  # tokens a chat template adds around each message


def tokenize(text: str) -> list[str]:
    """Tokens whose concatenation is `text` without trailing whitespace (so streams rebuild it exactly)."""
    return _TOKEN.findall(text)


def count(text: str) -> int:
    return len(_TOKEN.findall(text))


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """The first `limit` tokens of `text`, and whether anything was cut."""
    tokens = tokenize(text)
    if len(tokens) <= limit:
        return text, False
    return "".join(tokens[:limit]), True


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
    """Workers AI's usage; a prefix-cache hit adds `prompt_tokens_details.cached_tokens` (of prompt_tokens)."""
    body: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return body

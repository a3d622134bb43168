"""Per-account facts the emulator keeps: which accounts are on the free plan (paid-only models answer them
5035), and each session's last prompt (a repeated prefix is reported as cached input tokens).

Cloudflare: since 2026-07-28 kimi-k2.6, kimi-k2.7-code and glm-5.2 need the Workers Paid plan; a free account
gets 403 / 5035 (cloudflare-docs PR #32338; the model pages' `require_workers_paid` property). Accounts are
paid unless told free (start-up `--free-accounts`, or `PUT /__emulator/plans`), so tests that do not care see
every model. Prefix caching (features/prompt-caching): requests of one `x-session-affinity` session that
repeat a prompt's start report `usage.prompt_tokens_details.cached_tokens`; the first request of a session is
cold, and the cached part is counted in whole blocks of BLOCK_TOKENS ("inputs need to be sufficiently large
... due to block size"), never the whole prompt.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from app.emulator.envelope import EmulatorError, ai_error
from app.emulator.text_request import TextRequest
from app.emulator.tokens import tokenize
from app.model_table import MODELS as TABLE

# From the one model table the gateway's catalog comes from too (`paid_only`: kimi-k2.6, glm-5.2 and others).
PAID_ONLY_MODELS = frozenset(model.id for model in TABLE if model.paid_only)
PAID_PLAN_REQUIRED = 5035
BLOCK_TOKENS = 16
MAX_SESSIONS = 4096


def paid_plan_required() -> EmulatorError:
    return ai_error(PAID_PLAN_REQUIRED, "This model requires the Workers Paid plan")


class Plans:
    """Which accounts are free, and which models need the paid plan."""

    def __init__(self, free: Iterable[str] = (), paid_only: Iterable[str] = PAID_ONLY_MODELS) -> None:
        self.free = set(free)
        self.paid_only = set(paid_only)

    def check(self, account: str, model: str) -> None:
        if model in self.paid_only and account in self.free:
            raise paid_plan_required()

    def to_json(self) -> dict[str, list[str]]:
        return {"free_accounts": sorted(self.free), "paid_only_models": sorted(self.paid_only)}


def prompt_sequence(request: TextRequest) -> list[str]:
    """The prompt as the tokens `TextRequest.prompt_tokens` counts (3 for each message's framing)."""
    tokens: list[str] = []
    for message in request.messages:
        tokens += [f"<|{message.role}|>", "<|content|>", "<|end|>", *tokenize(message.text)]
    return tokens


class PrefixCache:
    """The last prompt of each (account, model, session); an LRU of MAX_SESSIONS."""

    def __init__(self) -> None:
        self._prompts: OrderedDict[tuple[str, str, str], list[str]] = OrderedDict()

    def cached(self, account: str, model: str, session: str, request: TextRequest) -> int:
        """How many of this prompt's tokens the session's previous prompt on this account already had."""
        tokens = prompt_sequence(request)
        key = (account, model, session)
        previous = self._prompts.pop(key, None)
        self._prompts[key] = tokens
        if len(self._prompts) > MAX_SESSIONS:
            self._prompts.popitem(last=False)
        if previous is None:
            return 0
        shared = 0
        for mine, theirs in zip(tokens, previous, strict=False):
            if mine != theirs:
                break
            shared += 1
        shared = min(shared, len(tokens) - 1)  # the last token is always computed
        return shared // BLOCK_TOKENS * BLOCK_TOKENS

    def clear(self) -> None:
        self._prompts.clear()

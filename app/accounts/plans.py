"""Workers Paid plan: which account may run which model (docs/accounts.md, "Paid accounts").

Since 2026-07-28 a few models (kimi-k2.6, kimi-k2.7-code, glm-5.2) need the Workers Paid plan: on a free
account Workers AI answers 403 with code 5035 (cloudflare-docs PR #32338, errors page). In a pool of free and
paid accounts that is a fact about one account and one model, not about the account: a 5035 marks the model
off for that account (its other models keep serving) and the call moves to another account. The operator may
say which accounts are paid in CF_ACCOUNTS (`ID:TOKEN:paid`, `ID:TOKEN:free`); a told-free account is then
never tried for a model another account has shown to need the paid plan. Marks are shared with the other
replicas through the shared state (`paid:{account}`) and expire after MARK_SECONDS (an account may upgrade).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import orjson

from app.errors import UpstreamError
from app.state.base import SharedState

log = logging.getLogger("app.accounts")
PAID_PLAN_REQUIRED = 5035  # Workers AI's code for "this model requires the Workers Paid plan"
MARK_SECONDS = 3600.0  # at least this long a 5035 keeps a model off an account (ACCOUNT_RECHECK_SECONDS if longer)


def paid_plan_error(model_id: str, *, pinned: bool) -> UpstreamError:
    """No account left that may run a paid-only model: a 403 that says so (never a 401: OneAPI disables a
    channel on one)."""
    which = (
        "the Cloudflare account this key is pinned to (ACCOUNT_KEY_PINS) is"
        if pinned
        else "no Cloudflare account of this gateway that can take the call is"
    )
    error = UpstreamError(
        f"The model `{model_id}` needs Cloudflare's Workers Paid plan, and {which} on it (Workers AI error "
        f"{PAID_PLAN_REQUIRED}). Upgrade an account to Workers Paid, add a paid account to CF_ACCOUNTS, or use a "
        "model the free plan serves.",
        status_code=403,
        error_type="invalid_request_error",
        code="paid_plan_required",
    )
    error.upstream_code = PAID_PLAN_REQUIRED
    return error


class PaidOnly:
    """Per account, the models it answered 5035 for, each until when; and the models known to need the paid
    plan (learned from any account)."""

    def __init__(self, state: SharedState, accounts: Iterable[str], plans: dict[str, str]) -> None:
        self.state = state
        self.plans = plans
        self.off: dict[str, dict[str, float]] = {account: {} for account in accounts}
        self.paid_models: set[str] = set()

    def blocked(self, account: str, model_id: str, now: float) -> bool:
        """True if `account` may not run `model_id` now: it answered 5035 for it, or it is told free and the
        model is known to need the paid plan (the catalog's `paid_only`, or a 5035 from any account)."""
        marks = self.off.get(account)
        if marks and marks.get(model_id, 0.0) > now:
            return True
        return model_id in self.paid_models and self.plans.get(account) == "free"

    def mark(self, account: str, masked: str, model_id: str, until: float, now: float) -> None:
        """`account` answered 5035 for `model_id`: off for it until `until`."""
        self.off.setdefault(account, {})[model_id] = until
        self.paid_models.add(model_id)
        if self.plans.get(account) == "paid":
            log.warning("account %s is set as paid in CF_ACCOUNTS, yet Workers AI says it is not (5035)", masked)
        log.warning("account %s is on the free plan: %s is off for it (it needs Workers Paid)", masked, model_id)

    async def save(self, account: str, now: float) -> None:
        marks = {model: until for model, until in self.off.get(account, {}).items() if until > now}
        if marks:
            await self.state.set(f"paid:{account}", orjson.dumps(marks), max(1.0, max(marks.values()) - now))

    async def refresh(self, accounts: Iterable[str]) -> None:
        """Takes in the marks other workers and replicas wrote."""
        ids = list(accounts)
        for account, raw in zip(ids, await self.state.get_many([f"paid:{a}" for a in ids]), strict=True):
            if not raw:
                continue
            marks = self.off.setdefault(account, {})
            for model, until in orjson.loads(raw).items():
                if float(until) > marks.get(model, 0.0):
                    marks[model] = float(until)
                    self.paid_models.add(model)

"""Refusals: what an upstream failure says about the account that ran the call, and the errors a client
sees when the pool has no account left to try (app/accounts/failover.py decides when)."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.account import Account
from app.errors import UpstreamError
from app.upstream.errors import AUTH_CODE

# What an upstream failure means for the account (UpstreamError.code, set by app/upstream/errors.py).
EXHAUSTED = frozenset({"daily_limit_exceeded"})
TRANSIENT = frozenset(
    {"rate_limit_exceeded", "upstream_error", "upstream_timeout", "upstream_aborted", "upstream_unreachable"}
)
AUTH_FAILED = "upstream_auth_failed"
# Why an account was taken out (`Account.disabled`, also what the status page and /readyz show).
TOKEN_REJECTED = "Cloudflare rejected its API token"
ID_UNKNOWN = "Cloudflare does not know the id"
WRONG_ACCOUNT_CODE = 7003


def transient_status(status: int) -> bool:
    """Workers AI's HTTP status says "try elsewhere" whatever the body: a 5xx, or a 429 (Cloudflare's edge
    may send one as an HTML page, which is no `rate_limit_exceeded` error code)."""
    return status >= 500 or status == 429


def rejects(error: UpstreamError) -> bool:
    """The failure says the account's credentials are wrong: its token (10000) or its id (7003)."""
    return error.code == AUTH_FAILED or getattr(error, "upstream_code", None) == WRONG_ACCOUNT_CODE


def setting_to_fix(account: Account, *, pooled: bool) -> str:
    """The setting the operator must fix for a rejected account: the one they used."""
    if pooled:
        return "CF_ACCOUNTS"
    return "CF_API_TOKEN" if account.disabled == TOKEN_REJECTED else "CF_ACCOUNT_ID"


def why_taken_out(error: UpstreamError) -> str:
    """`Account.disabled` for credentials Cloudflare rejected: the token, or the id."""
    return TOKEN_REJECTED if error.code == AUTH_FAILED else ID_UNKNOWN


def rejected_error(account: Account, error: UpstreamError, setting: str, seconds: int) -> UpstreamError:
    """What the client sees when the last account left was just rejected: the error's status and code,
    with the setting to fix in place of Cloudflare's wording, and when the account is tried again."""
    message = (
        f"Cloudflare rejected the credentials of account {account.masked}: {account.disabled} "
        f"({upstream_text(error)}). This is a server configuration problem: the operator must fix "
        f"{setting}. The account is tried again in {seconds} s."
    )
    rejected = UpstreamError(
        message,
        status_code=error.status_code,
        error_type=error.error_type,
        code=error.code,
        headers={"Retry-After": str(seconds)},
    )
    rejected.upstream_code = error.upstream_code
    return rejected


def all_taken_out(accounts: Sequence[Account], setting: str, seconds: int) -> UpstreamError:
    """Every account left was taken out (each passed over until its recheck): a 503 naming the setting."""
    if len(accounts) > 1:
        what = "every account of this gateway was taken out (its token or id was rejected)"
    else:
        what = f"account {accounts[0].masked} was rejected ({accounts[0].disabled})"
    return UpstreamError(
        f"No usable Cloudflare account: {what}. This is a server configuration problem: the operator must "
        f"fix {setting}. The account is tried again in {seconds} s.",
        status_code=503,
        code="no_usable_account",
        headers={"Retry-After": str(seconds)},
    )


def exhausted_error(allowance: float, seconds: int, *, pinned: bool) -> UpstreamError:
    """Every account (or the one the key is pinned to) used up today's allowance: a 429 until midnight."""
    which = (
        "The Cloudflare account this key is pinned to (ACCOUNT_KEY_PINS) has"
        if pinned
        else "Every Cloudflare account of this gateway has"
    )
    return too_many(
        f"{which} used up today's free Workers AI allowance "
        f"({allowance:,.0f} neurons a day each). It resets at 00:00 UTC, in {seconds} s.",
        "daily_limit_exceeded",
        seconds,
    )


def upstream_text(error: UpstreamError) -> str:
    """Cloudflare's own words, for a log line or a message that adds the setting to fix: an auth failure's
    message (written for a single account, naming CF_API_TOKEN) is left out."""
    if error.code == AUTH_FAILED:
        return f"Workers AI error {AUTH_CODE}, Authentication error"
    return error.message


def rate_limited(model_id: str, per_minute: int, retry_after: int) -> UpstreamError:
    return too_many(
        f"Every Cloudflare account is at Workers AI's limit of {per_minute} requests a minute for `{model_id}`; "
        f"retry in {retry_after} s.",
        "rate_limit_exceeded",
        retry_after,
    )


def too_many(message: str, code: str, retry_after: int) -> UpstreamError:
    """A 429 of the gateway's own (type `requests`, never `insufficient_quota`: OneAPI disables a channel on it)."""
    return UpstreamError(
        message, status_code=429, error_type="requests", code=code, headers={"Retry-After": str(retry_after)}
    )

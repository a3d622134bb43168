"""`CF_ACCOUNTS`, read: the pool's accounts and the Workers plan each states (docs/accounts.md, Settings)."""

from __future__ import annotations

from app.accounts.plans import Plan, split_plan
from app.config import ACCOUNT_ID

__all__ = ["parse_accounts", "parse_plans"]


def parse_accounts(value: str) -> list[tuple[str, str]]:
    """`CF_ACCOUNTS`: `ID:TOKEN` pairs, comma- or newline-separated, or `@/path` to a file of them (one a
    line, `#` comments); `ID:TOKEN:paid` or `ID:TOKEN:free` says the account's plan (`parse_plans`). Raises
    ValueError naming the entry (by position, never the token)."""
    return [(account, token) for account, token, _ in _entries(value)]


def parse_plans(value: str) -> dict[str, Plan]:
    """The plan each `CF_ACCOUNTS` entry states (`:paid`, `:free`); accounts that state none are left out."""
    return {account: plan for account, _, plan in _entries(value) if plan}


def _entries(value: str) -> list[tuple[str, str, Plan]]:
    text = value.strip()
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    entries = [part.strip() for line in text.splitlines() for part in line.split(",")]
    found: list[tuple[str, str, Plan]] = []
    for position, entry in enumerate((e for e in entries if e and not e.startswith("#")), start=1):
        account, sep, token = entry.partition(":")
        account, (token, plan) = account.strip(), split_plan(token.strip())
        if not sep or not account or not token:
            raise ValueError(f"CF_ACCOUNTS entry {position} is not ACCOUNT_ID:TOKEN (or ACCOUNT_ID:TOKEN:paid)")
        if not ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"CF_ACCOUNTS entry {position}: the account id may hold only letters, digits, '-', '_'")
        if any(existing == account for existing, _, _ in found):
            raise ValueError(f"CF_ACCOUNTS entry {position} repeats an account id")
        found.append((account, token, plan))
    return found

"""`CF_ACCOUNTS`, read: the pool's accounts and the Workers plan each states (docs/accounts.md, Settings).

A parser of one setting, below app/config.py (which validates the setting with it), so it imports nothing
of the product (pyproject.toml's layers)."""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["ACCOUNT_ID", "PLANS", "Plan", "parse_accounts", "parse_plans", "split_plan"]

ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
Plan = Literal["paid", "free", ""]  # "": not said, learned from the answers (app/accounts/plans.py)
PLANS: tuple[Plan, ...] = ("paid", "free")


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


def split_plan(token: str) -> tuple[str, Plan]:
    """`TOKEN:paid` -> (TOKEN, "paid"); a token with no plan suffix is kept whole (tokens may hold ':')."""
    head, sep, tail = token.rpartition(":")
    plan = tail.strip().lower()
    if sep and head.strip() and plan in PLANS:
        return head.strip(), plan
    return token, ""


# The account `workers-ai-gateway serve` uses with no Cloudflare settings (demo mode, against the built-in
# emulator): not a secret, and shown as it is (app/accounts/source.py `mask`).
DEMO_ACCOUNT_ID = "demo"

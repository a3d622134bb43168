"""Readiness: a list of named checks; `/readyz` is 200 only when every one passes.

Other parts register their own (the Redis backend: "redis reachable") with `Readiness.add`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# A check answers (ok, reason); the reason is shown to operators, so it names no secret.
Check = Callable[[], Awaitable[tuple[bool, str]]]


@dataclass(slots=True)
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def run(self) -> dict[str, tuple[bool, str]]:
        results = await asyncio.gather(*(check() for check in self.checks.values()), return_exceptions=True)
        report: dict[str, tuple[bool, str]] = {}
        for name, result in zip(self.checks, results, strict=True):
            if isinstance(result, BaseException):
                report[name] = (False, f"the check failed ({type(result).__name__})")
            else:
                report[name] = result
        return report


def upstream_configured(base_url: str, managed: bool, account_id: str) -> Check:
    async def check() -> tuple[bool, str]:
        if not base_url:
            return False, "no upstream base URL is set"
        if managed and not account_id:
            return False, "CF_API_TOKEN is set but CF_ACCOUNT_ID is not"
        return True, "ok"

    return check


def storage_writable(directory: str) -> Check:
    async def check() -> tuple[bool, str]:
        return await asyncio.to_thread(_try_write, directory)

    return check


def _try_write(directory: str) -> tuple[bool, str]:
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-"):
            pass
    except OSError as exc:
        return False, f"the data directory is not writable ({type(exc).__name__})"
    return True, "ok"

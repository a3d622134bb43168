"""Name resolution that hands the connector only addresses the policy allows, so the address checked is
the address connected to (a name that re-resolves elsewhere between check and connect gains nothing)."""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from app.fetch.addresses import Refused, refusal


class GuardedResolver(AbstractResolver):
    """Resolves a name and keeps the allowed addresses; raises `Refused` when none is left.

    `exempt` names the configured proxies: the operator chose them, so they may sit on private addresses.
    The connector resolves a proxy's name through here, never a target's name when a proxy is used."""

    def __init__(self, *, allow_private: bool, exempt: frozenset[str] = frozenset()) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private
        self.exempt = exempt

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host in self.exempt:
            return await self._resolve(host, port, family)
        return await self.allowed(host, port, family)

    async def allowed(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        """The addresses of `host` the policy allows (the exemption does not apply)."""
        results = await self._resolve(host, port, family)
        reasons = [refusal(r["host"], allow_private=self._allow_private) for r in results]
        kept = [r for r, reason in zip(results, reasons, strict=True) if reason is None]
        if not kept:
            raise Refused(f"the host resolves to {next((r for r in reasons if r), 'no address')}")
        return kept

    async def _resolve(self, host: str, port: int, family: socket.AddressFamily) -> list[ResolveResult]:
        try:
            return await self._inner.resolve(host, port, family)
        except OSError as exc:
            raise Refused("the host name could not be resolved") from exc

    def check_literal(self, host: str) -> None:
        """An IP literal in a URL (the connector skips resolution for those)."""
        reason = refusal(host, allow_private=self._allow_private)
        if reason is not None:
            raise Refused(f"the URL points at {reason}")

    async def close(self) -> None:
        await self._inner.close()

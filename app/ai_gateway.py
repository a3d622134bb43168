"""Cloudflare AI Gateway in front of Workers AI: where run calls go and the `cf-aig-*` headers they carry.

A value object, built once at start-up from the settings (docs/operations.md "AI Gateway"): the client
turns it into a second connection pool, a run-path prefix and header dicts, so a request pays nothing for
it beyond what a direct call pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BASE = "https://gateway.ai.cloudflare.com/v1"
MIN_CACHE_TTL = 60  # AI Gateway: "minimum TTL is 60 seconds and the maximum TTL is one month"
MAX_CACHE_TTL = 2_592_000


@dataclass(frozen=True, slots=True)
class AIGateway:
    """Run calls go to `{base_url}/{account_id}/{gateway_id}/workers-ai/run/{model}`."""

    base_url: str
    gateway_id: str
    cache_ttl: int = 0  # seconds, sent as `cf-aig-cache-ttl`; 0: not sent (the gateway's own setting holds)
    skip_cache: bool = False
    token: str = field(default="", repr=False)  # authenticated gateways: `cf-aig-authorization`; never printed

    @property
    def account_prefix(self) -> str:
        """What the run path starts with, before the account id (the pool adds the base URL's own path)."""
        return "/"

    @property
    def model_prefix(self) -> str:
        """What follows the account id, before the model id. `run/` as cloudflare/ai builds it (`utils.ts`);
        `/workers-ai/{model}` without it is the older documented form (docs/operations.md says why)."""
        return f"/{self.gateway_id}/workers-ai/run/"

    @property
    def headers(self) -> dict[str, str]:
        """The `cf-aig-*` headers every run call carries (computed once by the client, at start-up)."""
        headers: dict[str, str] = {}
        if self.cache_ttl:
            headers["cf-aig-cache-ttl"] = str(self.cache_ttl)
        if self.skip_cache:
            headers["cf-aig-skip-cache"] = "true"
        if self.token:
            headers["cf-aig-authorization"] = f"Bearer {self.token}"
        return headers

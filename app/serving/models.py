"""The model list: the built-in catalog, refreshed from `/ai/models/search` when credentials allow."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from app.catalog import Catalog, Model, model_from_search
from app.errors import GatewayError
from app.upstream.client import Credentials, WorkersAI

log = logging.getLogger("app.models")
CATALOG_CREATED = 1_700_000_000  # a fixed `created` for models that do not say when they appeared


class ModelDirectory:
    """Lists models, asking Workers AI for new ones on the first listing, then at most once per `ttl` seconds."""

    def __init__(self, catalog: Catalog, *, ttl: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self.clock = clock
        # None until the first ask: a monotonic clock counts from the machine's boot, so a start value of 0
        # would read as "asked moments ago" for the first `ttl` seconds after a boot (a fresh VM, CI).
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._checked_at is not None and self.clock() - self._checked_at < self.ttl

    async def refresh(self, upstream: WorkersAI, creds: Credentials | None) -> None:
        if creds is None or self.ttl == 0 or self._fresh():
            return
        async with self._lock:
            if self._fresh():
                return
            self._checked_at = self.clock()
            try:
                listed = await upstream.search_models(creds)
            except GatewayError as error:
                log.warning("could not refresh the model list from Workers AI: %s", error.message)
                return
            found = [m for m in (model_from_search(item) for item in listed) if m is not None]
            self.catalog.merge_upstream(found)

    def listing(self) -> list[dict[str, Any]]:
        models = [model_object(m.id, m.owned_by) for m in self.catalog.models.values()]
        aliases = [
            model_object(alias, "workers-ai-gateway", alias_of=target)
            for alias, target in sorted(self.catalog.aliases.items())
        ]
        return models + aliases

    def get(self, name: str) -> dict[str, Any] | None:
        if name in self.catalog.aliases:
            return model_object(name, "workers-ai-gateway", alias_of=self.catalog.aliases[name])
        model: Model | None = self.catalog.models.get(name)
        return model_object(model.id, model.owned_by) if model else None


def model_object(model_id: str, owned_by: str, *, alias_of: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": CATALOG_CREATED,
        "owned_by": owned_by,
    }
    if alias_of:
        item["alias_of"] = alias_of
    return item

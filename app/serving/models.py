"""The model list: the built-in catalog, refreshed from `/ai/models/search` when credentials allow.

Each live model says what it can do in fields beside OpenAI's four (`task`, `context_window`, `tools`,
`vision`, `reasoning`, `json_mode`, `paid_only`, `pricing`), so a front end or an agent can choose; the
OpenAI SDKs keep fields they do not know. Aliases carry `alias_of`; a retired id is listed as an alias of its
replacement with `retired` (the date) and `replacement` (without `alias_of` when the gateway refuses them).
The answer is built once per change of the catalog and kept as bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from app.catalog import Catalog, Model, Retired, Task, Unit, model_from_search
from app.errors import GatewayError
from app.upstream.client import Credentials, Upstream

log = logging.getLogger("app.models")
CATALOG_CREATED = 1_700_000_000  # a fixed `created` for models that do not say when they appeared
GATEWAY = "workers-ai-gateway"


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
        self._body: tuple[int, bool, bytes] | None = None  # (catalog version, demo, the JSON answer)

    def _fresh(self) -> bool:
        return self._checked_at is not None and self.clock() - self._checked_at < self.ttl

    async def refresh(self, upstream: Upstream, creds: Credentials | None) -> None:
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

    def body(self, notice: str | None = None) -> bytes:
        """`GET /v1/models`'s answer, serialized again only when the catalog has changed."""
        kept = self._body
        if kept is not None and kept[0] == self.catalog.version and kept[1] == bool(notice):
            return kept[2]
        answer: dict[str, object] = {"object": "list", "data": self.listing()}
        if notice:
            answer["notice"] = notice
        data = orjson.dumps(answer)
        self._body = (self.catalog.version, bool(notice), data)
        return data

    def listing(self) -> list[dict[str, Any]]:
        catalog = self.catalog
        models = [model_object(m) for m in catalog.models.values()]
        aliases = [
            alias_object(alias, catalog.models.get(target), target) for alias, target in sorted(catalog.aliases.items())
        ]
        retired = [retired_object(gone, catalog) for gone in catalog.retired.values()]
        return models + aliases + retired

    def get(self, name: str) -> dict[str, Any] | None:
        catalog = self.catalog
        if name in catalog.aliases:
            target = catalog.aliases[name]
            return alias_object(name, catalog.models.get(target), target)
        model: Model | None = catalog.models.get(name)
        if model is not None:
            return model_object(model)
        gone = catalog.retired.get(name)
        return retired_object(gone, catalog) if gone is not None else None


def _head(model_id: str, owned_by: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": CATALOG_CREATED, "owned_by": owned_by}


def model_object(model: Model) -> dict[str, Any]:
    """A live model: OpenAI's fields, then what it can do and costs."""
    item = _head(model.id, model.owned_by)
    item["task"] = model.task.value
    if model.context_window:
        item["context_window"] = model.context_window
    if model.task is Task.TEXT_GENERATION:
        item.update(tools=model.tools, vision=model.vision, reasoning=model.reasoning, json_mode=model.json_mode)
    if model.task is Task.TEXT_EMBEDDINGS and model.dimensions:
        item["dimensions"] = model.dimensions
    if model.paid_only:
        item["paid_only"] = True  # Workers Paid plan only: a free account gets 5035
    if model.price_in or model.price_out:
        item["pricing"] = pricing(model)
    return item


def pricing(model: Model) -> dict[str, Any]:
    """USD per `unit`; `estimated` when Cloudflare publishes no price and the gateway counts its own."""
    price: dict[str, Any] = {"unit": model.unit.value, "currency": "USD"}
    if model.unit is Unit.TOKENS:
        price["input"] = model.price_in
        if model.price_out:
            price["output"] = model.price_out
        if model.price_cached_in:
            price["cached_input"] = model.price_cached_in
    elif model.unit in (Unit.TILE_STEP, Unit.TILE_STEP_PRODUCT):
        price["tile"], price["step"] = model.price_in, model.price_out
    else:
        price["price"] = model.price_in
    if model.estimated:
        price["estimated"] = True
    return price


def alias_object(alias: str, model: Model | None, target: str) -> dict[str, Any]:
    """An alias: OpenAI's fields, `alias_of`, and its target's capabilities when the catalog knows them."""
    item = model_object(model) if model is not None else {}
    item.update(_head(alias, GATEWAY))
    item["alias_of"] = target
    return item


def retired_object(gone: Retired, catalog: Catalog) -> dict[str, Any]:
    """A retired id: an alias of its replacement (unless RETIRED_MODELS=refuse), marked as retired."""
    item = _head(gone.id, GATEWAY)
    if not catalog.refuse_retired:
        item["alias_of"] = gone.replacement
    item["retired"] = gone.retired_on
    item["replacement"] = gone.replacement
    return item

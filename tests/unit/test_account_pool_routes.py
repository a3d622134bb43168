"""The pool's per-model routes: a model the catalog learns later is priced from then on."""

from __future__ import annotations

import asyncio

import pytest

from app.accounts.pool import AccountPool
from app.catalog import Catalog, Model, Task
from app.state import MemoryState
from app.upstream.client import Credentials

NEW_MODEL = "@cf/example/brand-new-model"
ANSWER = {"response": "hi", "usage": {"prompt_tokens": 1000, "completion_tokens": 1000}}


def test_a_model_the_catalog_learns_later_is_priced_from_then_on() -> None:
    async def scenario() -> tuple[float, float]:
        catalog = Catalog()
        pool = AccountPool([Credentials("a" * 32, "token")], state=MemoryState(), catalog=catalog)
        creds = Credentials("a" * 32, "token")
        route = pool.ready(NEW_MODEL, creds)
        assert route is not None
        pool.done(route, 0.0, {"messages": []}, ANSWER)
        before = pool.neurons_total  # not in the catalog: no published price, no neurons guessed
        catalog.merge_upstream([Model(NEW_MODEL, Task.TEXT_GENERATION, price_in=0.5, price_out=1.0)])
        route = pool.ready(NEW_MODEL, creds)
        assert route is not None and route.model is catalog.models[NEW_MODEL]
        pool.done(route, 0.0, {"messages": []}, ANSWER)
        return before, pool.neurons_total - before

    before, after = asyncio.run(scenario())
    assert before == 0.0
    assert after == pytest.approx((0.5 * 1000 + 1.0 * 1000) / 1_000_000 / 0.011 * 1000)  # USD -> neurons

"""GET /v1/models and /v1/models/{id} through the openai client, and the upstream refresh."""

from __future__ import annotations

import asyncio

import openai
import pytest

from app.catalog import Catalog
from app.serving.models import ModelDirectory
from app.upstream.client import Credentials, WorkersAI
from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.http import call
from tests.servers import Emulator, gateway, managed_env


def test_list_has_workers_ai_models_and_aliases(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert "@cf/meta/llama-3.1-8b-instruct-fast" in models
    assert {"gpt-4o-mini", "gpt-3.5-turbo", "text-embedding-3-small", "dall-e-3", "whisper-1", "tts-1"} <= set(models)
    for model in models.values():
        assert model.object == "model" and isinstance(model.created, int) and model.owned_by


def test_list_is_refreshed_from_workers_ai_models_search(client: openai.OpenAI, upstream: Emulator) -> None:
    ids = {m.id for m in client.models.list()}
    listed = [r for r in upstream.requests() if r["path"].endswith("/ai/models/search")]
    # The session gateway asked Workers AI once (cached after): every model the emulator lists shows up.
    search = call(
        "GET",
        f"{upstream.api_base}/accounts/x/ai/models/search?per_page=100",
        headers={"Authorization": "Bearer cf-test-token"},
    ).json()["result"]
    assert {m["name"] for m in search} <= ids
    assert len(listed) <= 1


def test_retrieve_model_and_alias(client: openai.OpenAI) -> None:
    assert client.models.retrieve("@cf/meta/llama-3.1-8b-instruct-fast").id == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-9-ultra")


def test_models_need_the_key(gateway_url: str) -> None:
    assert call("GET", f"{gateway_url}/v1/models").status == 401


def test_openapi_documents_the_request_bodies(gateway_url: str) -> None:
    schema = call("GET", f"{gateway_url}/openapi.json").json()
    body = schema["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ChatCompletionRequest"}
    components = schema["components"]["schemas"]
    assert "messages" in components["ChatCompletionRequest"]["properties"]
    text = str(schema)
    for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in components  # every reference resolves
    assert "#/$defs" not in text


def listings(upstream: Emulator) -> list[dict[str, object]]:
    """The model listings that reached the emulator (not the start-up credential check, which asks for one)."""
    searched = [r for r in upstream.requests() if r["path"].endswith("/ai/models/search")]
    return [r for r in searched if r["query"].get("per_page") != "1"]


def test_a_machine_booted_a_minute_ago_asks_on_the_first_listing_then_once_per_ttl(upstream: Emulator) -> None:
    now = [60.0]  # what time.monotonic() reads a minute after the machine booted

    async def refresh_at(*moments: float) -> list[int]:
        client = WorkersAI(upstream.api_base, timeout=10)
        await client.start()
        directory = ModelDirectory(Catalog(), ttl=3600, clock=lambda: now[0])
        asked = []
        try:
            for moment in moments:
                now[0] = moment
                await directory.refresh(client, Credentials(ACCOUNT, CF_TOKEN))
                asked.append(len(listings(upstream)))
        finally:
            await client.close()
        return asked

    # asked at 60 s; not again within the hour; again once the hour is over
    assert asyncio.run(refresh_at(60.0, 61.0, 3659.0, 3660.0)) == [1, 1, 1, 2]


def test_the_first_models_listing_of_a_new_gateway_reaches_workers_ai(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base)) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            first = {m.id for m in client.models.list()}
            assert len(listings(upstream)) == 1
            client.models.list()
        assert len(listings(upstream)) == 1  # cached for MODELS_CACHE_SECONDS (an hour)
    assert "@cf/meta/llama-3.1-8b-instruct-fast" in first

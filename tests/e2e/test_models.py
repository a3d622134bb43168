"""GET /v1/models and /v1/models/{id} through the openai client, and the upstream refresh."""

from __future__ import annotations

import openai
import pytest

from tests.http import call
from tests.servers import Emulator


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

"""The one table of error dialects (app/errors.py renderer_for) agrees with what /openapi.json documents."""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.errors import (
    InvalidRequest,
    anthropic_response,
    deepl_response,
    deeplx_response,
    error_response,
    renderer_for,
)
from app.main import create_app

SCHEMAS = {
    error_response: "ErrorResponse",
    deeplx_response: "DeepLXError",
    deepl_response: "DeepLError",
    anthropic_response: "AnthropicError",
}


def _error_schemas(operation: dict[str, Any]) -> set[str]:
    found = set()
    for status, answer in operation["responses"].items():
        if status.startswith(("4", "5")):
            ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            found.add(ref.rsplit("/", 1)[-1])
    return found


def test_every_documented_route_speaks_the_dialect_the_edge_renders_for_its_path() -> None:
    settings = Settings(_env_file=None, cf_api_token="t", cf_account_id="a")  # type: ignore[call-arg]
    document = create_app(settings).app.openapi()
    checked = 0
    for path, operations in document["paths"].items():
        expected = SCHEMAS[renderer_for(path)]
        for operation in operations.values():
            schemas = _error_schemas(operation)
            if schemas:
                assert schemas == {expected}, (path, schemas)
                checked += 1
    assert checked > 20


def test_paths_under_a_dialects_prefix_speak_it() -> None:
    assert renderer_for("/v2/glossaries") is deepl_response
    assert renderer_for("/translate/batch") is deeplx_response and renderer_for("/translate") is deeplx_response
    assert renderer_for("/v1/messages/batches") is anthropic_response
    assert renderer_for("/v1/models") is error_response and renderer_for("/translatex") is error_response
    refused = renderer_for("/v2/translate")(InvalidRequest("Incorrect API key provided.", status_code=401))
    assert refused.status_code == 403  # the DeepL API refuses a key with a 403

"""The dialect the edge renders a path's errors in (from the route declarations) agrees with /openapi.json."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.dialects import ANTHROPIC, DEEPL, DEEPLX, OPENAI
from app.edge import Edge
from app.errors import InvalidRequest
from app.main import create_app

SCHEMAS = {OPENAI: "ErrorResponse", DEEPLX: "DeepLXError", DEEPL: "DeepLError", ANTHROPIC: "AnthropicError"}


@pytest.fixture(scope="module")
def edge() -> Edge:
    return create_app(Settings(_env_file=None, cf_api_token="t", cf_account_id="a"))  # type: ignore[call-arg]


def _error_schemas(operation: dict[str, Any]) -> set[str]:
    found = set()
    for status, answer in operation["responses"].items():
        if status.startswith(("4", "5")):
            ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            found.add(ref.rsplit("/", 1)[-1])
    return found


def test_every_documented_route_speaks_the_dialect_the_edge_renders_for_its_path(edge: Edge) -> None:
    document = edge.app.openapi()
    checked = 0
    for path, operations in document["paths"].items():
        expected = SCHEMAS[edge.dialects.of(path)]
        for operation in operations.values():
            schemas = _error_schemas(operation)
            if schemas:
                assert schemas == {expected}, (path, schemas)
                checked += 1
    assert checked > 20


def test_paths_under_a_dialects_prefix_speak_it(edge: Edge) -> None:
    of = edge.dialects.of
    assert of("/v2/glossaries") is DEEPL
    assert of("/translate/batch") is DEEPLX and of("/translate") is DEEPLX and of("/translate/nope") is DEEPLX
    assert of("/v1/messages/batches") is ANTHROPIC
    assert of("/v1/models") is OPENAI and of("/translatex") is OPENAI and of("/v1/messagesx") is OPENAI
    refused = edge.render("/v2/translate", InvalidRequest("Incorrect API key provided.", status_code=401))
    assert refused.status_code == 403  # the DeepL API refuses a key with a 403

"""Schemathesis against the gateway's own `/openapi.json`, on the real gateway and emulator over loopback.

Generic over every operation in the document: a route another part of the gateway adds (images, audio,
translation) is fuzzed as soon as it is documented. Two runs per operation:
- as generated: the document and the behaviour agree (schema-valid bodies accepted or refused only for a
  documented reason such as an unknown model, schema-invalid ones refused, only documented statuses and
  content types);
- with each body's `model` swapped for a real one, so requests get past the model check into conversion,
  bounds and the emulator: no 5xx, every error in OpenAI's shape.

`make test` runs a short deterministic run (`FUZZ_EXAMPLES`, default 15 per operation and run, a fixed
derandomized seed); `make fuzz` a long one, printing how many requests it made and which statuses came back.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from tests.conftest import TEST_KEY

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
# One model of each kind the gateway routes: native and OpenAI-shaped text, vision, reasoning, embeddings,
# and one of another task (a clear 400 on the text routes).
MODELS = [
    "@cf/meta/llama-3.1-8b-instruct",
    "@cf/openai/gpt-oss-20b",
    "@cf/meta/llama-4-scout-17b-16e-instruct",
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "@cf/baai/bge-base-en-v1.5",
    "@cf/black-forest-labs/flux-1-schnell",
    "gpt-4o-mini",
]
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
SEEN: Counter[tuple[str, int]] = Counter()
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def api_schema(gateway_url: str) -> Iterator[Any]:
    started = time.monotonic()
    yield schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    seconds = time.monotonic() - started
    statuses = Counter[int]()
    for (_, status), count in SEEN.items():
        statuses[status] += count
    print(
        f"\nschemathesis: {sum(SEEN.values())} requests in {seconds:.0f} s over "
        f"{len({op for op, _ in SEEN})} operations; statuses {dict(sorted(statuses.items()))}; "
        f"5xx: {sum(c for s, c in statuses.items() if s >= 500)}"
    )
    for key, count in sorted(SEEN.items()):
        print(f"  {key[0]} {key[1]}: {count}")


def operations(api_schema: Any) -> list[Any]:
    found = [result.ok() for result in api_schema.get_all_operations()]
    assert len(found) >= 6, found  # chat, completions, embeddings, two model routes, health
    return found


def exhaustive(test: Any) -> None:
    try:
        test()
    except Unsatisfiable:  # no invalid request exists for an operation without parameters
        pass


def openai_error_shape(response: Any) -> None:
    """Every 4xx/5xx is OpenAI's error object, with a JSON content type."""
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["type"], str)
    assert body["error"]["param"] is None or isinstance(body["error"]["param"], str)


def send(case: schemathesis.Case, checks: list[Any]) -> None:
    response = case.call(headers=AUTH, timeout=30)
    SEEN[(case.operation.label, response.status_code)] += 1
    openai_error_shape(response)
    case.validate_response(response, checks=checks, headers=AUTH)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_document_is_what_the_gateway_does(api_schema: Any, mode: GenerationMode) -> None:
    for operation in operations(api_schema):

        @FUZZ
        @given(operation.as_strategy(mode))
        def conforms(case: schemathesis.Case) -> None:
            send(case, CONFORMANCE)

        exhaustive(conforms)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_requests_that_reach_real_models(api_schema: Any, mode: GenerationMode) -> None:
    for operation in operations(api_schema):

        @FUZZ
        @given(operation.as_strategy(mode), st.sampled_from(MODELS))
        def holds(case: schemathesis.Case, model: str) -> None:
            if isinstance(case.body, dict) and isinstance(case.body.get("model"), str):
                case.body["model"] = model
            case.headers = {**(case.headers or {}), **AUTH}  # past the key check too
            # A valid body can still be refused for a reason of the model's (no images, other vector size).
            send(case, [not_a_server_error, status_code_conformance])

        exhaustive(holds)

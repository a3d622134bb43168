"""Schemathesis against the gateway's own `/openapi.json`, on the real gateway and emulator over loopback.

Generic over every operation in the document: a route another part of the gateway adds (images, audio,
translation) is fuzzed as soon as it is documented. Two runs per operation:
- as generated: the document and the behaviour agree (schema-valid bodies accepted or refused only for a
  documented reason such as an unknown model, schema-invalid ones refused, only documented statuses and
  content types);
- with each body's `model` swapped for a real one and each uploaded file for a real image or sound, so
  requests get past the model and upload checks into conversion, bounds and the emulator: no 5xx.
In both, every error has the schema the document declares for that operation and status (OpenAI's on
/v1/*, DeepLX's on /translate*, DeepL's on /v2/*), so a route's error dialect is checked where it is
declared. The gateway key goes as a bearer token, which every route that takes a key accepts.

`make test` runs a short deterministic run (`FUZZ_EXAMPLES`, default 4 per operation and run, a fixed
derandomized seed); `make fuzz` a long one, printing how many requests it made and which statuses came back.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema_rs  # schemathesis's own validator
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
from schemathesis.transport.serialization import Binary

from tests.conftest import TEST_KEY
from tests.http import call
from tests.imageserver import PNG
from tests.samples import wav

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
# One model of each kind the gateway routes: native and OpenAI-shaped text, vision, reasoning, embeddings,
# and one of another task (a clear 400 on the text routes).
MODELS = [
    "@cf/meta/llama-3.1-8b-instruct-fast",
    "@cf/openai/gpt-oss-20b",
    "@cf/meta/llama-4-scout-17b-16e-instruct",
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "@cf/baai/bge-base-en-v1.5",
    "@cf/black-forest-labs/flux-1-schnell",
    "gpt-4o-mini",
]
# The models of the task an operation's path needs (and one of another task, a clear 400), so that most
# requests reach conversion and the emulator; any other operation draws from MODELS.
HEARING = ["@cf/openai/whisper", "@cf/openai/whisper-large-v3-turbo", "@cf/deepgram/nova-3", "whisper-1"]
DRAWING = ["@cf/black-forest-labs/flux-1-schnell", "@cf/stabilityai/stable-diffusion-xl-base-1.0", "dall-e-2"]
TASK_MODELS = {
    "/v1/audio/transcriptions": [*HEARING, MODELS[0]],
    "/v1/audio/translations": [*HEARING, MODELS[0]],
    "/v1/audio/speech": ["@cf/myshell-ai/melotts", "@cf/deepgram/aura-1", "tts-1", MODELS[0]],
    "/v1/images/generations": [*DRAWING, MODELS[0]],
    "/v1/images/edits": ["@cf/runwayml/stable-diffusion-v1-5-img2img", *DRAWING, MODELS[0]],
}
VOICE = st.sampled_from(["alloy", "nova", "en", "angus", "no-such-voice"])  # OpenAI's, melotts', aura's, none
# What an uploaded file's part must really be for the upload to be read (schemas cannot say it).
UPLOADS = {"image": PNG, "mask": PNG, "file": wav("hello", seconds=0.2)}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
REF_OPENAI = "#/components/schemas/ErrorResponse"
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
def document(gateway_url: str) -> dict[str, Any]:
    return dict(call("GET", f"{gateway_url}/openapi.json").json())


@pytest.fixture(scope="module")
def api_schema(gateway_url: str, document: dict[str, Any]) -> Iterator[Any]:
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


def declared_error(document: dict[str, Any], case: schemathesis.Case, status: int) -> dict[str, Any]:
    """The JSON schema the document gives the operation's answer `status` (for a status it does not list,
    such as 405, the schema of the operation's other errors: the route's dialect), refs resolvable."""
    operation = document["paths"][case.operation.path][case.operation.method.lower()]
    errors = [r for code, r in operation["responses"].items() if code.isdigit() and int(code) >= 400]
    answer = operation["responses"].get(str(status)) or (errors[0] if errors else None)
    schema = answer["content"]["application/json"]["schema"] if answer else {"$ref": REF_OPENAI}
    return {**schema, "components": document["components"]}


def error_shape(document: dict[str, Any], case: schemathesis.Case, response: Any) -> None:
    """Every 4xx/5xx is JSON in the error schema declared for its operation (HEAD answers have no body)."""
    if response.status_code < 400 or case.operation.method.upper() == "HEAD":
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    jsonschema_rs.validate(declared_error(document, case, response.status_code), response.json())


def send(document: dict[str, Any], case: schemathesis.Case, checks: list[Any]) -> None:
    response = case.call(headers=AUTH, timeout=30)
    SEEN[(case.operation.label, response.status_code)] += 1
    error_shape(document, case, response)
    case.validate_response(response, checks=checks, headers=AUTH)


def conformance(document: dict[str, Any], case: schemathesis.Case) -> list[Any]:
    """All of CONFORMANCE; but a schema-valid upload can still be refused (its bytes are no image or sound,
    which a schema cannot say), and so can values past the model's own limits where the operation declares
    them (`x-checked-per-model`): for those, not positive_data_acceptance."""
    operation = document["paths"][case.operation.path][case.operation.method.lower()]
    upload = "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
    if upload or "x-checked-per-model" in operation:
        return [check for check in CONFORMANCE if check is not positive_data_acceptance]
    return CONFORMANCE


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_document_is_what_the_gateway_does(api_schema: Any, document: dict[str, Any], mode: GenerationMode) -> None:
    for operation in operations(api_schema):

        @FUZZ
        @given(operation.as_strategy(mode))
        def conforms(case: schemathesis.Case) -> None:
            send(document, case, conformance(document, case))

        exhaustive(conforms)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_requests_that_reach_real_models(api_schema: Any, document: dict[str, Any], mode: GenerationMode) -> None:
    for operation in operations(api_schema):

        @FUZZ
        @given(operation.as_strategy(mode), st.sampled_from(TASK_MODELS.get(operation.path, MODELS)), VOICE)
        def holds(case: schemathesis.Case, model: str, voice: str) -> None:
            if isinstance(case.body, dict):
                if isinstance(case.body.get("model"), str):
                    case.body["model"] = model
                if isinstance(case.body.get("voice"), str):
                    case.body["voice"] = voice
                for name, real in UPLOADS.items():
                    if isinstance(case.body.get(name), (bytes, Binary)):  # a file part
                        case.body[name] = real
            case.headers = {**(case.headers or {}), **AUTH}  # past the key check too
            # A valid body can still be refused for a reason of the model's (no images, other vector size).
            send(document, case, [not_a_server_error, status_code_conformance])

        exhaustive(holds)


@pytest.mark.parametrize("path", ["/v1/images/edits", "/v1/audio/transcriptions", "/v1/audio/translations"])
def test_random_bytes_to_an_upload_route_are_a_400(gateway_url: str, path: str) -> None:
    """What schemathesis never sends: bodies that are no multipart at all, or a multipart cut anywhere."""
    rng = random.Random(path)
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n' + bytes(200) + b"\r\n--b--\r\n"
    bodies = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))) for _ in range(12)]
    bodies += [part[: rng.randrange(len(part))] for _ in range(12)]
    for content_type in ("multipart/form-data; boundary=b", "multipart/form-data", "application/octet-stream"):
        for body in bodies:
            answer = call("POST", f"{gateway_url}{path}", body, {**AUTH, "Content-Type": content_type})
            assert answer.status == 400, (content_type, body[:40], answer.status, answer.body[:200])
            assert answer.error["type"] == "invalid_request_error"

"""Request bounds (docs/limits.md): each breach a 400 naming the parameter, before any upstream call, and
nothing a client sends can hold the event loop. The rows of issue 14 this covers, request for request."""

from __future__ import annotations

import threading
import time
from typing import Any

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
GPT_OSS = "@cf/openai/gpt-oss-20b"
HI = [{"role": "user", "content": "hi"}]
AUTH = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
HUGE = 2**64


def post(url: str, path: str, body: bytes | dict[str, Any]) -> Answer:
    return call("POST", f"{url}{path}", body, AUTH)


def runs(upstream: Emulator) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if "/ai/run/" in r["path"]]


def refused(raised: pytest.ExceptionInfo[openai.BadRequestError], param: str) -> None:
    assert raised.value.status_code == 400
    assert raised.value.param == param and raised.value.type == "invalid_request_error"


# --- row 2: integers of 64 bits and more -------------------------------------------------------------------


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens", "seed", "top_k"])
@pytest.mark.parametrize("value", [HUGE, HUGE * 1000])
def test_a_huge_integer_parameter_is_a_400_naming_it(
    client: openai.OpenAI, upstream: Emulator, param: str, value: int
) -> None:
    extra = {"top_k": value} if param == "top_k" else {}
    kwargs = {} if param == "top_k" else {param: value}
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=LLAMA, messages=HI, extra_body=extra, **kwargs)  # type: ignore[call-overload]
    refused(raised, param)
    assert runs(upstream) == []


def test_seed_at_the_64_bit_edge_is_accepted(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=HI, seed=2**63 - 1)
    assert answer.choices[0].message.content
    assert upstream.last_run()["seed"] == 9_999_999_999  # clamped to what Workers AI accepts


def test_huge_integers_in_free_form_json_reach_workers_ai_exactly(gateway_url: str, upstream: Emulator) -> None:
    tool = {
        "type": "function",
        "function": {"name": "pick", "parameters": {"type": "object", "properties": {"n": {"maximum": HUGE}}}},
    }
    history = [
        {"role": "user", "content": "pick"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "pick", "arguments": {"n": HUGE}}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]
    answer = post(gateway_url, "/v1/chat/completions", {"model": GPT_OSS, "messages": history, "tools": [tool]})
    assert answer.status == 200, answer.body
    sent = upstream.last_run()
    assert sent["tools"][0]["function"]["parameters"]["properties"]["n"]["maximum"] == HUGE
    assert '"n": 18446744073709551616' in sent["messages"][1]["tool_calls"][0]["function"]["arguments"]
    schema = {"type": "json_schema", "json_schema": {"name": "n", "schema": {"maximum": HUGE * 7}}}
    answer = post(gateway_url, "/v1/chat/completions", {"model": GPT_OSS, "messages": HI, "response_format": schema})
    assert answer.status == 200, answer.body
    assert upstream.last_run()["response_format"]["json_schema"]["schema"]["maximum"] == HUGE * 7


# --- row 3: stop sequences cannot hold the event loop -------------------------------------------------------


def _health_while(url: str, work: Any) -> float:
    """Runs `work` in a thread, calling /health until it is done; the slowest /health, in seconds."""
    done = threading.Event()
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    slowest = 0.0
    while not done.is_set():
        started = time.monotonic()
        assert call("GET", f"{url}/health", timeout=30).status == 200
        slowest = max(slowest, time.monotonic() - started)
    thread.join()
    assert result and isinstance(result[0], Answer)
    return slowest


@pytest.mark.parametrize(("stops", "n"), [(100_000, 1), (20_000, 8)])
def test_many_stop_sequences_are_refused_without_a_stall(
    gateway_url: str, upstream: Emulator, stops: int, n: int
) -> None:
    body = {"model": LLAMA, "messages": HI, "stream": True, "n": n, "stop": [f"stop{i}" for i in range(stops)]}
    answers: list[Answer] = []

    def send() -> Answer:
        answers.append(post(gateway_url, "/v1/chat/completions", body))
        return answers[-1]

    slowest = _health_while(gateway_url, send)
    assert answers[0].status == 400 and answers[0].error["param"] == "stop"
    assert "at most 4" in answers[0].error["message"]
    assert slowest < 2.0  # it was 4-20 s; a loaded machine answers /health in milliseconds
    assert runs(upstream) == []


def test_stop_bounds_through_the_sdk(client: openai.OpenAI, upstream: Emulator) -> None:
    client.chat.completions.create(model=LLAMA, messages=HI, stop=["a", "b", "c", "d" * 128])
    upstream.reset()
    for stop, param in ((["a", "b", "c", "d", "e"], "stop"), (["a", "x" * 129], "stop[1]"), ("x" * 129, "stop")):
        with pytest.raises(openai.BadRequestError) as raised:
            client.chat.completions.create(model=LLAMA, messages=HI, stop=stop, stream=True)
        refused(raised, param)
    assert runs(upstream) == []


# --- row 10: what the document allows is what is served, and the reverse ----------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/completions", {"model": LLAMA, "prompt": ""}, "prompt"),
        ("/v1/completions", {"model": LLAMA, "prompt": "hi", "echo": True}, "echo"),
        ("/v1/embeddings", {"model": "@cf/baai/bge-base-en-v1.5", "input": ""}, "input"),
        ("/v1/chat/completions", {"model": LLAMA, "messages": HI, "stream": 0}, "stream"),
        ("/v1/chat/completions", {"model": LLAMA, "messages": HI, "n": "2"}, "n"),
        ("/v1/chat/completions", {"model": LLAMA, "messages": HI, "temperature": "1"}, "temperature"),
        (
            "/v1/chat/completions",
            {"model": LLAMA, "messages": HI, "tools": [{"type": "function", "function": {"name": ""}}]},
            "tools[0].function.name",
        ),
    ],
)
def test_what_the_schema_forbids_is_refused_before_workers_ai(
    gateway_url: str, upstream: Emulator, path: str, body: dict[str, Any], param: str
) -> None:
    answer = post(gateway_url, path, body)
    assert answer.status == 400 and answer.error["param"] == param, answer.body
    assert runs(upstream) == []


def test_integers_written_with_a_fraction_of_zero_are_integers(client: openai.OpenAI, upstream: Emulator) -> None:
    # JSON Schema says 8.0 is an integer, and so does the gateway.
    client.chat.completions.create(model=LLAMA, messages=HI, extra_body={"max_tokens": 40.0, "n": 1.0})
    assert upstream.last_run()["max_tokens"] == 40


def test_the_document_declares_the_bounds_errors_and_streams(gateway_url: str) -> None:
    document = call("GET", f"{gateway_url}/openapi.json").json()
    models = document["components"]["schemas"]
    chat = models["ChatCompletionRequest"]["properties"]
    assert chat["messages"]["maxItems"] == 2048 and chat["n"]["maximum"] == 8
    assert {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 128}} in chat["stop"]["anyOf"]
    assert models["FunctionDefinition"]["properties"]["name"]["pattern"] == "^[a-zA-Z0-9_-]{1,64}$"
    assert models["CompletionRequest"]["properties"]["echo"]["const"] is False
    assert {"type": "string", "minLength": 1} in models["CompletionRequest"]["properties"]["prompt"]["anyOf"]
    # Each route's errors in its clients' dialect, and the keys it takes as its security options.
    dialects = {
        "/translate": ("DeepLXError", ["gatewayKey", "deeplxToken", "deeplxPassword"]),
        "/translate/batch": ("DeepLXError", ["gatewayKey", "deeplxToken", "deeplxPassword"]),
        "/v2/": ("DeepLError", ["deeplAuthKey", "gatewayKey"]),
        "/v1/files/images/": ("ErrorResponse", []),  # hosted images: the name is the capability
        "/health": ("ErrorResponse", []),
        "/v1/messages": ("AnthropicError", ["anthropicKey", "gatewayKey"]),
        "/v1/messages/": ("AnthropicError", ["anthropicKey", "gatewayKey"]),
        "/healthz": ("ErrorResponse", []),
        "/readyz": ("ErrorResponse", []),
        "/metrics": ("ErrorResponse", []),
    }
    for path, operations in document["paths"].items():
        found = [
            v for prefix, v in dialects.items() if path == prefix or (prefix.endswith("/") and path.startswith(prefix))
        ]
        found = found or ([("ErrorResponse", [])] if path == "/" else [])  # the home page needs no key
        model, schemes = found[0] if found else ("ErrorResponse", ["gatewayKey"])
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status != "200":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": f"#/components/schemas/{model}"}, (method, path, status)
            assert operation["security"] == [{scheme: []} for scheme in schemes], (method, path)
    assert {"/v1/images/edits", "/v1/audio/transcriptions", "/v1/audio/speech", "/v2/translate"} <= set(
        document["paths"]
    )
    for path in ("/v1/images/edits", "/v1/audio/transcriptions", "/v1/audio/translations"):
        form = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert any(part.get("format") == "binary" for part in form["properties"].values()), path
    speech = document["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    assert {"audio/mpeg", "text/event-stream"} <= set(speech), speech
    assert set(document["paths"]["/v2/translate"]["post"]["responses"]) >= {"400", "403", "413", "456", "503"}
    assert set(models["DeepLXError"]["required"]) == {"code", "message"}
    for path in ("/v1/chat/completions", "/v1/completions"):
        post_ = document["paths"][path]["post"]
        assert {"400", "401", "404", "413", "429", "502", "504"} <= set(post_["responses"])
        assert set(post_["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert document["components"]["securitySchemes"]["gatewayKey"]["scheme"] == "bearer"


# --- every other bound ---------------------------------------------------------------------------------------


def _tools(count: int) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": f"tool_{i}"}} for i in range(count)]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": HI * 2049}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}] * 257}]}, "messages[0].content"),
        ({"tools": _tools(129)}, "tools"),
        ({"n": 9}, "n"),
        ({"logit_bias": {str(i): 1 for i in range(301)}}, "logit_bias"),
        ({"logit_bias": {"50256": 101}}, "logit_bias"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata.k"),
        ({"model": "m" * 257}, "model"),
    ],
)
def test_each_bound_is_a_400_naming_the_parameter(
    gateway_url: str, upstream: Emulator, body: dict[str, Any], param: str
) -> None:
    answer = post(gateway_url, "/v1/chat/completions", {"model": LLAMA, "messages": HI, **body})
    assert answer.status == 400 and answer.error["param"] == param, answer.body
    assert runs(upstream) == []


def test_requests_at_the_bounds_are_served(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.chat.completions.create(
        model=GPT_OSS,
        messages=HI * 2048,
        tools=_tools(128),  # type: ignore[arg-type]
        logit_bias={str(i): 100 for i in range(300)},
        metadata={f"{i:02}" + "k" * 62: "v" * 512 for i in range(16)},
        n=8,
    )
    assert len(answer.choices) == 8
    sent = upstream.last_run()
    assert len(sent["messages"]) == 2048 and len(sent["tools"]) == 128
    assert "logit_bias" not in sent and "metadata" not in sent  # Workers AI has neither


def test_json_nested_too_deep_is_a_clear_400(gateway_url: str, upstream: Emulator) -> None:
    deep = "{" + '"a":{' * 250 + "}" * 251
    body = f'{{"model":"{LLAMA}","messages":[{{"role":"user","content":"hi"}}],"tools":[{{"type":"function",'
    body += f'"function":{{"name":"f","parameters":{deep}}}}}]}}'
    answer = post(gateway_url, "/v1/chat/completions", body.encode())
    assert answer.status == 400 and answer.error["code"] == "invalid_json"
    assert "deeper than 200 levels" in answer.error["message"]
    assert runs(upstream) == []

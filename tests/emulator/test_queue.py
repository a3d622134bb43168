"""Workers AI's asynchronous batch queue (`?queueRequest=true`) in the emulator, shaped as Cloudflare's docs show
it (workers-ai/features/batch-api): queued, then queued/running on a poll, then every response with its id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.conftest import Emulator, Reply

BGE = "@cf/baai/bge-small-en-v1.5"
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


@pytest.fixture
def queue(emu: Emulator) -> Iterator[Emulator]:
    emu.request("PUT", "/__emulator/queue", json={"seconds": 2.0})  # queued for 1 s, running for 1 s
    yield emu


def queued(emu: Emulator, model: str, body: Any, account: str = "") -> Reply:
    path = f"/client/v4/accounts/{account or emu.account}/ai/run/{model}?queueRequest=true"
    return emu.request("POST", path, json=body)


def test_a_submit_is_queued_then_polled_to_every_response_with_its_id(queue: Emulator) -> None:
    submit = queued(queue, BGE, {"requests": [{"text": ["a b", "c"]}, {"text": "d e f", "external_reference": "x"}]})
    assert submit.status == 200
    accepted = submit.json()["result"]
    assert accepted["status"] == "queued" and accepted["model"] == BGE and accepted["request_id"]
    first = queued(queue, BGE, {"request_id": accepted["request_id"]}).json()["result"]
    assert first == {"status": "queued", "request_id": accepted["request_id"]}
    time.sleep(1.1)
    assert queued(queue, BGE, {"request_id": accepted["request_id"]}).json()["result"]["status"] == "running"
    time.sleep(1.0)
    done = queued(queue, BGE, {"request_id": accepted["request_id"]}).json()["result"]
    interactive = queue.run(BGE, {"text": ["a b", "c"]}).json()["result"]
    assert [r["id"] for r in done["responses"]] == [0, 1]
    assert done["responses"][0] == {"id": 0, "result": interactive, "success": True, "external_reference": None}
    assert done["responses"][1]["external_reference"] == "x" and done["responses"][1]["result"]["shape"] == [1, 384]
    assert done["usage"] == {"prompt_tokens": 6, "completion_tokens": 0, "total_tokens": 6}
    counts = queue.request("GET", "/__emulator/queue").json()
    assert (counts["submits"], counts["polls"]) == (1, 3)


def test_a_chat_model_s_responses_carry_its_usage(queue: Emulator) -> None:
    queue.request("PUT", "/__emulator/queue", json={"seconds": 0})
    request_id = queued(queue, LLAMA, {"requests": [{"prompt": "tell me a joke"}]}).json()["result"]["request_id"]
    done = queued(queue, LLAMA, {"request_id": request_id}).json()["result"]
    [response] = done["responses"]
    assert response["success"] and response["result"]["response"]
    assert done["usage"] == response["result"]["usage"]


def test_a_model_the_queue_does_not_take_and_a_foreign_request_id_are_refused(queue: Emulator) -> None:
    refused = queued(queue, "@cf/meta/llama-3.1-8b-instruct-fast", {"requests": [{"prompt": "hi"}]})
    assert refused.status == 400 and refused.json()["errors"][0]["code"] == 5006
    request_id = queued(queue, BGE, {"requests": [{"text": "a"}]}).json()["result"]["request_id"]
    other = queued(queue, BGE, {"request_id": request_id}, account="another-account")
    assert other.status == 400  # only the account that took it knows it
    assert queued(queue, BGE, {"requests": []}).status == 400


def test_a_failed_request_is_answered_in_its_place(queue: Emulator) -> None:
    queue.request("PUT", "/__emulator/queue", json={"seconds": 0})
    request_id = queued(queue, BGE, {"requests": [{"text": "ok"}, {"text": ""}]}).json()["result"]["request_id"]
    good, bad = queued(queue, BGE, {"request_id": request_id}).json()["result"]["responses"]
    assert good["success"] and bad["id"] == 1 and bad["success"] is False
    assert bad["result"]["errors"][0]["code"] == 5006

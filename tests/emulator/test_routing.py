"""Routing, auth and size errors from the API layer (result null), and unknown models (5007)."""

from __future__ import annotations

import re

import pytest

from tests.emulator.conftest import ACCOUNT, TOKEN, Emulator

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
HELLO = {"prompt": "hi"}


def test_unknown_model_is_5007(emu: Emulator) -> None:
    reply = emu.run("@cf/meta/llama-9-nope", HELLO)
    assert reply.status == 400
    body = reply.json()
    assert body["result"] == {} and body["success"] is False
    (error,) = body["errors"]
    assert error["code"] == 5007
    assert re.fullmatch(
        r"AiError: AiError: No such model @cf/meta/llama-9-nope or task \([0-9a-f-]{36}\)", error["message"]
    )


@pytest.mark.parametrize(
    "retired", ["@cf/meta/llama-3.1-8b-instruct", "@hf/nousresearch/hermes-2-pro-mistral-7b", "@cf/microsoft/phi-2"]
)
def test_a_retired_model_is_5007_as_cloudflare_answers_since_2026_05_30(emu: Emulator, retired: str) -> None:
    reply = emu.run(retired, HELLO)
    assert reply.status == 400
    (error,) = reply.json()["errors"]
    assert error["code"] == 5007 and error["message"].startswith(f"AiError: AiError: No such model {retired} or task")
    chat = emu.ai(
        "POST", "v1/chat/completions", json={"model": retired, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert chat.status == 400 and chat.json()["errors"][0]["code"] == 5007


def test_unknown_path_is_7003(emu: Emulator) -> None:
    reply = emu.request("GET", "/client/v4/accounts/abc/ai/v1/models")
    assert reply.status == 404
    assert reply.json() == {
        "result": None,
        "success": False,
        "errors": [
            {
                "code": 7003,
                "message": "Could not route to /client/v4/accounts/abc/ai/v1/models, perhaps your object "
                "identifier is invalid?",
            }
        ],
        "messages": [],
    }
    assert emu.request("GET", f"/client/v4/accounts/abc/ai/run/{LLAMA}").json()["errors"][0]["code"] == 7003


def test_token_is_required_when_configured(locked: Emulator) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        reply = locked.run(LLAMA, HELLO, headers=headers)
        assert reply.status == 401
        assert reply.json() == {
            "result": None,
            "success": False,
            "errors": [{"code": 10000, "message": "Authentication error"}],
            "messages": [],
        }
    ok = locked.run(LLAMA, HELLO, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 200 and ok.json()["success"] is True


def test_open_emulator_accepts_any_token(emu: Emulator) -> None:
    assert emu.run(LLAMA, HELLO, headers={"Authorization": "Bearer anything"}).status == 200


def test_wrong_account_is_7003(locked: Emulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    reply = locked.request("POST", f"/client/v4/accounts/other/ai/run/{LLAMA}", json=HELLO, headers=auth)
    assert reply.status == 404
    error = reply.json()["errors"][0]
    assert error == {
        "code": 7003,
        "message": f"Could not route to /client/v4/accounts/other/ai/run/{LLAMA}, perhaps your object identifier "
        "is invalid?",
    }
    assert (
        locked.request("POST", f"/client/v4/accounts/{ACCOUNT}/ai/run/{LLAMA}", json=HELLO, headers=auth).status == 200
    )


def test_oversized_body_is_3006(emu: Emulator) -> None:
    reply = emu.run("@cf/openai/whisper", data=b"\0" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "audio/mpeg"})
    assert reply.status == 413
    assert reply.json()["errors"][0]["code"] == 3006


def test_non_json_body_to_json_model_is_5006(emu: Emulator) -> None:
    reply = emu.run(LLAMA, data=b"not json", headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["errors"][0]["code"] == 5006


def test_health(emu: Emulator) -> None:
    assert emu.request("GET", "/__emulator/health").json() == {"status": "ok"}

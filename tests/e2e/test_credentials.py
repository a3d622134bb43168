"""The start-up credential check: a wrong CF_API_TOKEN (or account id) is found before the first call, logged,
reported by /readyz, and every error after names the setting the operator used, with Retry-After."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.accounts.source import mask
from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator, gateway, managed_env

WRONG = "wrong-token-0f3a9c"
A, B = "acct-alpha-0001", "acct-bravo-0002"
CHAT = {"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def chat(url: str) -> Answer:
    return call("POST", f"{url}/v1/chat/completions", CHAT, AUTH)


def checks(upstream: Emulator) -> list[dict[str, Any]]:
    """The start-up checks that reached the emulator: one model from /ai/models/search."""
    searched = [r for r in upstream.requests() if r["path"].endswith("/ai/models/search")]
    return [r for r in searched if r["query"].get("per_page") == "1"]


def rejected_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "REJECTED" in line]


def test_a_wrong_token_is_found_at_start_logged_and_reported(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, CF_API_TOKEN=WRONG)) as (url, log):
        ready = call("GET", f"{url}/readyz")
        health = call("GET", f"{url}/health")
        first, second = chat(url), chat(url)
        sent = upstream.requests()
        text = log.read_text()
    # One cheap call at start, and no call reaches Workers AI for a chat once the account is known to be out.
    assert [r["path"] for r in sent] == [f"/client/v4/accounts/{ACCOUNT}/ai/models/search"]
    lines = rejected_lines(log)
    assert len(lines) == 1 and "ERROR" in lines[0]
    assert "CF_API_TOKEN REJECTED at start-up" in lines[0] and mask(ACCOUNT) in lines[0]
    assert WRONG not in text and ACCOUNT not in text
    assert health.status == 200  # liveness: restarting would not fix a setting
    assert ready.status == 503
    body = ready.json()
    assert body["checks"]["accounts"] is False and "CF_API_TOKEN" in body["failing"]["accounts"]
    (rejected,) = body["accounts"]["rejected"]
    assert body["accounts"]["checked"] is True and body["accounts"]["total"] == 1
    assert rejected["account"] == mask(ACCOUNT) and rejected["setting"] == "CF_API_TOKEN"
    assert 800 <= rejected["retry_in"] <= 900  # ACCOUNT_RECHECK_SECONDS
    for answer in (first, second):
        assert answer.status == 503 and answer.error["code"] == "no_usable_account"
        assert "CF_API_TOKEN" in answer.error["message"] and "CF_ACCOUNTS" not in answer.error["message"]
        assert 800 <= int(answer.headers["retry-after"]) <= 900
        assert WRONG.encode() not in answer.body


def test_a_good_token_is_checked_once_and_the_gateway_is_ready(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base)) as (url, log):
        ready = call("GET", f"{url}/readyz")
        assert chat(url).status == 200
    assert ready.status == 200
    assert ready.json()["accounts"] == {"total": 1, "checked": True, "rejected": []}
    (check,) = checks(upstream)
    assert check["path"] == f"/client/v4/accounts/{ACCOUNT}/ai/models/search"
    assert check["headers"]["authorization"] == f"Bearer {CF_TOKEN}"
    assert not rejected_lines(log)


def test_an_unknown_account_id_names_cf_account_id(upstream: Emulator) -> None:
    upstream.fault(account=ACCOUNT, code=7003, times=1)  # taken by the start-up check
    with gateway(managed_env(upstream.api_base)) as (url, log):
        ready = call("GET", f"{url}/readyz")
        answer = chat(url)
    assert ready.status == 503 and ready.json()["accounts"]["rejected"][0]["setting"] == "CF_ACCOUNT_ID"
    assert "CF_ACCOUNT_ID REJECTED at start-up" in rejected_lines(log)[0]
    assert answer.status == 503 and "CF_ACCOUNT_ID" in answer.error["message"]
    assert int(answer.headers["retry-after"]) >= 1


def test_in_a_pool_one_rejected_account_is_reported_and_the_others_serve(upstream: Emulator) -> None:
    accounts = f"{A}:{CF_TOKEN},{B}:{WRONG}"
    with gateway(managed_env(upstream.api_base, CF_ACCOUNTS=accounts)) as (url, log):
        ready = call("GET", f"{url}/readyz")
        answers = [chat(url) for _ in range(3)]
        runs = [r["path"] for r in upstream.requests() if "/ai/run/" in r["path"]]
    assert ready.status == 200  # one account still serves
    (rejected,) = ready.json()["accounts"]["rejected"]
    assert rejected["account"] == mask(B) and rejected["setting"] == "CF_ACCOUNTS"
    assert all(answer.status == 200 for answer in answers)
    assert all(f"/accounts/{A}/" in path for path in runs)
    (line,) = rejected_lines(log)
    assert "CF_ACCOUNTS REJECTED at start-up" in line and mask(B) in line and "TAKEN OUT OF THE POOL" in line


def test_in_a_pool_every_account_rejected_names_cf_accounts(upstream: Emulator) -> None:
    accounts = f"{A}:{WRONG},{B}:{WRONG}"
    with gateway(managed_env(upstream.api_base, CF_ACCOUNTS=accounts)) as (url, _):
        ready = call("GET", f"{url}/readyz")
        answer = chat(url)
    assert ready.status == 503 and "CF_ACCOUNTS" in ready.json()["failing"]["accounts"]
    assert answer.status == 503 and "CF_ACCOUNTS" in answer.error["message"]
    assert "CF_API_TOKEN" not in answer.error["message"]
    assert int(answer.headers["retry-after"]) >= 1


def test_a_token_rejected_later_names_the_pool_setting_with_retry_after(upstream: Emulator) -> None:
    env = managed_env(upstream.api_base, CF_ACCOUNTS=f"{A}:{CF_TOKEN}")
    with gateway(env) as (url, _):
        upstream.fault(account=A, code=10000, times=1)
        answer = chat(url)
    assert answer.status == 502 and answer.error["code"] == "upstream_auth_failed"
    assert "CF_ACCOUNTS" in answer.error["message"] and "CF_API_TOKEN" not in answer.error["message"]
    assert mask(A) in answer.error["message"]
    assert 800 <= int(answer.headers["retry-after"]) <= 900


def test_a_rejected_account_is_checked_again_and_comes_back_without_any_call(upstream: Emulator) -> None:
    upstream.fault(account=ACCOUNT, code=10000, times=1)  # only the start-up check is refused
    with gateway(managed_env(upstream.api_base, ACCOUNT_RECHECK_SECONDS="3")) as (url, log):
        assert call("GET", f"{url}/readyz").status == 503
        deadline = time.monotonic() + 30
        while call("GET", f"{url}/readyz").status != 200:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert chat(url).status == 200
    assert len(checks(upstream)) == 2
    assert "answers again" in log.read_text()

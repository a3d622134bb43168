"""The status page, /status.json and OneAPI's billing calls, over real HTTP, against a known snapshot;
and the page as Debian's chromium draws it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.accounts.snapshot import Snapshot
from tests.browser import FLAGS
from tests.http import call
from tests.png import read_png
from tests.servers import TEST_KEY, Emulator, gateway, managed_env
from tests.status_fixture import gateway_with_pool, known_snapshot
from tests.tools import require

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
GREEN, AMBER, GREY, BLUE = (0x2F, 0x9E, 0x6E), (0xD9, 0x82, 0x2B), (0x9A, 0xA3, 0xAD), (0x3B, 0x6F, 0xD8)


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return known_snapshot()


@pytest.fixture(scope="module")
def pooled(upstream: Emulator, snapshot: Snapshot) -> Iterator[str]:
    with gateway_with_pool(upstream.api_base, snapshot) as url:
        yield url


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_billing_subscription_is_todays_allowance_in_usd(pooled: str, prefix: str, snapshot: Snapshot) -> None:
    answer = call("GET", f"{pooled}{prefix}/dashboard/billing/subscription", headers=AUTH)
    assert answer.status == 200
    body = answer.json()
    # Two usable accounts (the disabled one does not count) x 10,000 neurons x $0.011 / 1,000.
    assert body["hard_limit_usd"] == body["soft_limit_usd"] == body["system_hard_limit_usd"] == 0.22
    assert body["object"] == "billing_subscription" and body["has_payment_method"] is False
    assert body["access_until"] == snapshot.reset_at


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_billing_usage_gives_oneapi_the_balance_left(pooled: str, prefix: str) -> None:
    headers = AUTH
    hard = call("GET", f"{pooled}{prefix}/dashboard/billing/subscription", headers=headers).json()["hard_limit_usd"]
    # As OneAPI asks when has_payment_method is false: from today - 100 days.
    answer = call(
        "GET", f"{pooled}{prefix}/dashboard/billing/usage?start_date=2026-08-25&end_date=2026-12-03", headers=headers
    )
    assert answer.status == 200
    cents = answer.json()["total_usage"]
    # 20,000 usable neurons, 6,749.5 left: 13,250.5 gone = 14.57555 cents.
    assert cents == pytest.approx(14.57555)
    assert hard - cents / 100 == pytest.approx(6749.5 * 0.011 / 1000)  # OneAPI's balance: what is left


def test_billing_needs_a_gateway_key_and_a_date_shape(pooled: str) -> None:
    missing = call("GET", f"{pooled}/v1/dashboard/billing/subscription")
    assert missing.status == 401 and missing.error["code"] == "invalid_api_key"
    bad = call("GET", f"{pooled}/v1/dashboard/billing/usage?start_date=yesterday", headers=AUTH)
    assert bad.status == 400 and bad.error["param"] == "start_date"


def test_billing_of_one_account_follows_its_use(gateway_url: str) -> None:
    call(
        "POST",
        f"{gateway_url}/v1/chat/completions",
        {"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "count me"}]},
        AUTH | {"Content-Type": "application/json"},
    )
    status = call("GET", f"{gateway_url}/status.json", headers=AUTH).json()
    sub = call("GET", f"{gateway_url}/v1/dashboard/billing/subscription", headers=AUTH).json()
    usage = call("GET", f"{gateway_url}/v1/dashboard/billing/usage", headers=AUTH).json()
    used, allowance = status["accounts"][0]["neurons_used"], status["accounts"][0]["daily_allowance"]
    assert used > 0 and sub["hard_limit_usd"] == 0.11
    # What the allowance lost, in cents: at most all of it (the session's gateway may be past it by now, after
    # the large agent requests of other tests, and then OneAPI's balance reads 0, not less).
    assert usage["total_usage"] == pytest.approx(min(used, allowance) * 0.011 / 1000 * 100, abs=1e-6)


def test_status_json_is_the_snapshot(pooled: str, snapshot: Snapshot) -> None:
    answer = call("GET", f"{pooled}/status.json", headers=AUTH)
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body == snapshot.to_dict() | {"accounts": body["accounts"]}
    assert [(a["id"], a["state"]) for a in body["accounts"]] == [
        ("a1b2…f9e0", "ok"),
        ("c3d4…1a2b", "exhausted"),
        ("e5f6…3c4d", "disabled"),
    ]
    assert body["neurons_left"] == 6749.5 and body["daily_allowance"] == 20_000
    assert body["cache"] == {"hits": 75, "misses": 25}


def test_status_needs_a_gateway_key_when_keys_are_set(pooled: str) -> None:
    assert call("GET", f"{pooled}/status").status == 401
    assert call("GET", f"{pooled}/status?key=wrong").status == 401
    assert call("GET", f"{pooled}/status.json").status == 401
    assert call("GET", f"{pooled}/status.json?key={TEST_KEY}").status == 401  # JSON: the header only
    page = call("GET", f"{pooled}/status?key={TEST_KEY}")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert call("GET", f"{pooled}/status", headers=AUTH).status == 200


def test_status_is_open_without_gateway_keys(upstream: Emulator) -> None:
    with gateway_with_pool(upstream.api_base, known_snapshot(), gateway_api_keys=[]) as url:
        assert call("GET", f"{url}/status").status == 200
        assert len(call("GET", f"{url}/status.json").json()["accounts"]) == 3


def test_status_page_escapes_and_shows_every_account(pooled: str) -> None:
    html = call("GET", f"{pooled}/status", headers=AUTH).body.decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "exhausted until 00:00 UTC" in html and "disabled: token rejected by Cloudflare (10000)" in html
    assert "<span>whisper</span>" in html and "75%" in html
    assert "http://" not in html.replace("http-equiv", "") and "https://" not in html  # no external assets


def test_one_account_is_a_pool_of_one(gateway_url: str) -> None:
    body = call("GET", f"{gateway_url}/status.json", headers=AUTH).json()
    assert [a["id"] for a in body["accounts"]] == ["0123…cdef"] and body["reset_at"] % 86_400 == 0
    assert body["accounts"][0]["state"] == "ok" and body["accounts"][0]["daily_allowance"] == 10_000
    html = call("GET", f"{gateway_url}/status", headers=AUTH).body.decode()
    assert "0123…cdef" in html and "state unknown" not in html


@pytest.mark.needs_tool("chromium")
def test_status_renders_in_headless_chromium(pooled: str, tmp_path: Path) -> None:
    url = f"{pooled}/status?key={TEST_KEY}"
    shot = tmp_path / "status.png"
    base = [require("chromium"), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,1600", url], check=True, capture_output=True, timeout=90
    )
    image = read_png(shot)
    assert (image.width, image.height) == (1200, 1600)
    colours = image.colours()
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    assert {GREEN, AMBER, GREY, BLUE} <= colours  # ok, exhausted, disabled badge, totals chart
    dom = subprocess.run([*base, "--dump-dom", url], check=True, capture_output=True, timeout=90).stdout.decode()
    assert dom.count('class="account" data-account=') == 3
    assert 'data-account="c3d4…1a2b" data-state="exhausted"' in dom
    assert dom.count("<rect") >= 4 * 24  # the three hourly charts and the totals
    assert "&lt;script&gt;" in dom


def test_translation_cache_hits_reach_the_status(upstream: Emulator) -> None:
    with gateway_with_pool(upstream.api_base, None) as url:
        body = {"text": "The status page counts this.", "source_lang": "EN", "target_lang": "DE"}
        for _ in range(3):
            answer = call("POST", f"{url}/translate?token={TEST_KEY}", body, {"Content-Type": "application/json"})
            assert answer.status == 200
        cache = call("GET", f"{url}/status.json", headers=AUTH).json()["cache"]
        html = call("GET", f"{url}/status", headers=AUTH).body.decode()
        metrics = call("GET", f"{url}/metrics").body.decode()
    # The first call misses (its text, and nothing to detect as EN is given); the two repeats hit.
    assert cache["hits"] == 2 and cache["misses"] == 1
    assert "67%" in html
    assert 'gateway_translation_cache_total{result="hit"} 2.0' in metrics
    assert 'gateway_translation_cache_total{result="miss"} 1.0' in metrics


def test_access_log_hides_keys_in_urls(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, ACCESS_LOG="true")) as (url, log):
        assert call("GET", f"{url}/status?key={TEST_KEY}").status == 200
        body = {"text": "hello", "source_lang": "EN", "target_lang": "DE"}
        translated = call("POST", f"{url}/translate?token={TEST_KEY}", body, {"Content-Type": "application/json"})
        assert translated.status == 200
        time.sleep(0.2)  # the access lines are written as the answers go out
        lines = log.read_text()
    assert "GET /status?key=*** HTTP/1.1" in lines and "POST /translate?token=*** HTTP/1.1" in lines
    assert TEST_KEY not in lines

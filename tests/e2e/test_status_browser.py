"""The status page as headless chromium lays it out: demo mode said, model ids kept whole (wide and narrow
windows), the gateway totals only where there is more than one account to add up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.accounts.snapshot import ModelUsage
from tests.browser import Chromium
from tests.http import call
from tests.servers import TEST_KEY, Emulator, gateway
from tests.status_fixture import gateway_with_pool, known_snapshot
from tests.status_traffic import send_traffic, two_accounts

pytestmark = pytest.mark.needs_tool("chromium")
LONG_IDS = (
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "@cf/qwen/qwen2.5-coder-32b-instruct",
)
# Every model-id cell: its text, the number of lines its parts were laid on, and whether a part (the text
# between two `/`) was itself broken over two lines.
MODEL_CELLS = """[...document.querySelectorAll('td.model')].map(td => {
  const parts = [...td.querySelectorAll('span')];
  return {text: td.textContent, lines: new Set(parts.map(p => Math.round(p.getBoundingClientRect().top))).size,
          broken: parts.some(p => p.getClientRects().length > 1)};
})"""
TOTALS = "document.querySelectorAll('#totals').length"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    with Chromium(tmp_path / "profile") as chromium:
        yield chromium


def test_demo_mode_is_said_at_the_top_of_the_status_page(browser: Chromium, gateway_url: str) -> None:
    with gateway({}) as (url, _):
        browser.open(f"{url}/status", 1200)
        banner = browser.evaluate("document.getElementById('demo').getBoundingClientRect().toJSON()")
        text = browser.evaluate("document.getElementById('demo').innerText")
        badge = browser.evaluate("document.querySelector('h1 .badge').innerText")
    assert banner["height"] > 20 and banner["top"] < 200  # seen without scrolling
    assert text.startswith("Demo mode:") and "not from Cloudflare" in text and "CF_API_TOKEN" in text
    assert badge == "DEMO"
    browser.open(f"{gateway_url}/status?key={TEST_KEY}", 1200)  # a gateway on (emulated) Cloudflare: no word of it
    assert browser.evaluate("document.getElementById('demo') === null && !document.body.innerText.includes('DEMO')")


@pytest.mark.parametrize("width", [1200, 390])
def test_model_ids_break_only_after_a_slash(browser: Chromium, upstream: Emulator, width: int) -> None:
    snapshot = known_snapshot()
    ok = snapshot.accounts[0]
    models = tuple(ModelUsage(model, requests=3, neurons=12.5) for model in LONG_IDS) + ok.models
    with gateway_with_pool(upstream.api_base, replace(snapshot, accounts=(replace(ok, models=models),))) as url:
        browser.open(f"{url}/status?key={TEST_KEY}", width)
        cells = browser.evaluate(MODEL_CELLS)
        overflow = browser.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert {cell["text"] for cell in cells} == {*LONG_IDS, *(m.model for m in ok.models)}
    assert not [cell for cell in cells if cell["broken"]]  # never inside `llama-3.3-70b-instruct-fp8-fast`
    if width == 1200:
        assert {cell["lines"] for cell in cells} == {1}  # room enough: every id whole on one line
    else:
        assert max(cell["lines"] for cell in cells) > 1  # a phone: the longest wrap, after a `/`
    assert overflow <= 0  # and nothing sticks out of the window


def test_gateway_totals_only_with_more_than_one_account(browser: Chromium, upstream: Emulator) -> None:
    one = known_snapshot()
    with gateway_with_pool(upstream.api_base, replace(one, accounts=one.accounts[:1])) as url:
        browser.open(f"{url}/status?key={TEST_KEY}", 1200)
        assert browser.evaluate("document.querySelectorAll('section.account[data-account]').length") == 1
        assert browser.evaluate(TOTALS) == 0
    with two_accounts(upstream) as url:
        send_traffic(url, upstream)
        snapshot = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        browser.open(f"{url}/status?key={TEST_KEY}", 1200)
        assert browser.evaluate("document.querySelectorAll('section.account[data-account]').length") == 2
        assert browser.evaluate(TOTALS) == 1
        total_requests = browser.evaluate(
            "[...document.querySelectorAll('#totals td.model + td')].reduce((n, td) => n + Number(td.textContent), 0)"
        )
    states = sorted(account["state"] for account in snapshot["accounts"])
    assert states == ["exhausted", "ok"]  # the second account's allowance ran out on the way
    assert total_requests == sum(m["requests"] for a in snapshot["accounts"] for m in a["models"]) > 0


def test_one_real_account_shows_no_totals(browser: Chromium, gateway_url: str) -> None:
    call(
        "POST",
        f"{gateway_url}/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "count me"}]},
        {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"},
    )
    browser.open(f"{gateway_url}/status?key={TEST_KEY}", 1200)
    assert browser.evaluate("document.querySelectorAll('section.account[data-account]').length") == 1
    assert browser.evaluate(TOTALS) == 0
    assert browser.evaluate("document.querySelectorAll('td.model').length") >= 1

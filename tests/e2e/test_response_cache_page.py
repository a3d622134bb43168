"""The status page in headless chromium: the neurons the response cache saved today, beside those used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.browser import Chromium
from tests.http import call
from tests.servers import TEST_KEY, Emulator, gateway, managed_env

pytestmark = pytest.mark.needs_tool("chromium")
CARD = """[...document.querySelectorAll('.card')].map(card => ({
  label: card.querySelector('small').textContent, value: card.querySelector('b').textContent,
  top: Math.round(card.getBoundingClientRect().top)}))"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    with Chromium(tmp_path / "profile") as chromium:
        yield chromium


def test_neurons_saved_today_are_shown_beside_neurons_used(browser: Chromium, upstream: Emulator) -> None:
    long_prompt = "Summarise the history of the bicycle in detail. " * 200  # enough neurons to show
    with gateway(managed_env(upstream.api_base)) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            for _ in range(3):  # one call upstream, two answers from the cache
                client.chat.completions.create(
                    model="@cf/meta/llama-3.1-8b-instruct-fast",
                    messages=[{"role": "user", "content": long_prompt}],
                    temperature=0,
                )
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        browser.open(f"{url}/status?key={TEST_KEY}", 1200)
        cards = {card["label"]: card for card in browser.evaluate(CARD)}
    used, saved = status["neurons_used"], status["neurons_saved"]
    assert saved == pytest.approx(2 * used, rel=0.01) and saved > 0  # two hits, each the cost of the one call
    assert cards["Neurons saved today"]["value"].startswith(f"{saved:,.1f}" if saved < 100 else f"{saved:,.0f}")
    assert cards["Neurons saved today"]["top"] == cards["Neurons used today"]["top"]  # side by side

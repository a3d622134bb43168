"""GET and HEAD / (issue 27): a page for a browser, JSON for API clients, 200 with no body for `HEAD /` (Claude
Code's warm-up), no key needed and no secret in it; in managed, passthrough and demo mode; and the page as
Debian's chromium shows it."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from tests.browser import FLAGS
from tests.conftest import ACCOUNT, CF_TOKEN, TEST_KEY
from tests.http import Answer, call
from tests.servers import Emulator, gateway
from tests.tools import require

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"  # Chrome's
SECRETS = (TEST_KEY, "other-key", CF_TOKEN, ACCOUNT)


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    """The gateway as `make serve` starts it with no credentials: demo mode."""
    with gateway({}) as (url, _):
        yield url


def home(url: str, accept: str | None) -> Answer:
    answer = call("GET", f"{url}/", headers={"Accept": accept} if accept is not None else {})
    assert answer.status == 200, answer.body
    assert not any(secret.encode() in answer.body for secret in SECRETS)
    assert "accept" in answer.headers["vary"].lower()
    return answer


@pytest.mark.parametrize("accept", ["*/*", "application/json", "application/json, text/html;q=0.5", None])
def test_api_clients_get_json_with_the_links_and_the_mode(gateway_url: str, accept: str | None) -> None:
    answer = home(gateway_url, accept)  # no Authorization header: it needs no key
    assert answer.headers["content-type"] == "application/json"
    facts = answer.json()
    assert facts["name"] == "workers-ai-gateway" and facts["mode"] == "managed" and facts["demo"] is False
    assert facts["links"]["status"] == "/status" and facts["links"]["docs"] == "/docs"
    assert facts["base_urls"]["openai"] == f"{gateway_url}/v1" and "GATEWAY_API_KEYS" in facts["key"]
    assert "Recipes" in facts["recipes"]


def test_the_openai_sdk_reads_the_json(gateway_url: str) -> None:
    with openai.OpenAI(base_url=gateway_url, api_key="not needed", max_retries=0) as client:
        facts: Any = client.get("/", cast_to=object)
    assert facts["mode"] == "managed" and facts["base_urls"]["openai"] == f"{gateway_url}/v1"


def test_a_browser_gets_a_page_linking_status_docs_and_recipes(gateway_url: str) -> None:
    answer = home(gateway_url, BROWSER)
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = answer.body.decode()
    assert '<a href="/status">' in page and '<a href="/docs">' in page and "README.md, section Recipes" in page
    assert 'data-mode="managed"' in page and "Demo mode" not in page
    assert f"<code>{gateway_url}/v1</code>" in page


def test_head_is_200_with_no_body(gateway_url: str) -> None:
    parts = urlsplit(gateway_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for accept in ("*/*", BROWSER):
            connection.request("HEAD", "/", headers={"Accept": accept})  # as Claude Code warms up, no key
            answer = connection.getresponse()
            assert answer.status == 200 and answer.read() == b""
        connection.request("GET", "/health")  # the connection is still in step: no stray body was sent
        assert connection.getresponse().read().startswith(b'{"status":"ok"')
    finally:
        connection.close()


def test_passthrough_mode_says_whose_token_to_send(upstream: Emulator) -> None:
    with gateway({"CF_API_BASE": upstream.api_base}) as (url, _):
        facts = home(url, "*/*").json()
    assert facts["mode"] == "passthrough" and "Cloudflare API token" in facts["key"]


def test_demo_mode_is_said_in_both(demo: str) -> None:
    assert home(demo, None).json()["mode"] == "demo"
    page = home(demo, BROWSER).body.decode()
    assert 'data-mode="demo"' in page and "Demo mode" in page


def test_the_document_lists_the_route_without_a_key(gateway_url: str) -> None:
    operations = call("GET", f"{gateway_url}/openapi.json").json()["paths"]["/"]
    assert set(operations) == {"get", "head"} and all(op["security"] == [] for op in operations.values())


@pytest.mark.needs_tool("chromium")
def test_chromium_shows_the_page(demo: str, tmp_path: Path) -> None:
    base = [require("chromium"), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", f"{demo}/"], check=True, capture_output=True, timeout=90).stdout
    text = dom.decode()
    assert "<h1>workers-ai-gateway" in text and "Demo mode" in text  # the page, not JSON shown as text
    assert '<a href="/status">' in text and '<a href="/docs">' in text

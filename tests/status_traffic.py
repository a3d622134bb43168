"""A pool of two accounts on the emulator after a morning's kind of traffic: the status page in a state a
person would see, for the browser tests and for the README's picture of it.

`python -m tests.status_traffic docs/img/status.png` takes that picture again: its own emulator and gateway
on loopback ports, headless chromium (Debian's `chromium` package), nothing else."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai

from tests.browser import Chromium
from tests.http import call
from tests.servers import CF_TOKEN, TEST_KEY, Emulator, emulator, gateway, managed_env

ACCOUNTS = ("5c1f0e2d9a8b47c6b3e2d1f0a9b8c7d6", "9e8d7c6b5a4f43e2d1c0b9a8f7e6d5c4")
CHAT = ("gpt-4o-mini", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/qwen/qwen2.5-coder-32b-instruct")
PICTURE_WIDTH = 1100


@contextmanager
def two_accounts(upstream: Emulator) -> Iterator[str]:
    """A gateway pooling ACCOUNTS (both with the emulator's token); its URL."""
    accounts = ",".join(f"{account}:{CF_TOKEN}" for account in ACCOUNTS)
    with gateway(managed_env(upstream.api_base, CF_ACCOUNTS=accounts)) as (url, _):
        yield url


def send_traffic(url: str, upstream: Emulator) -> None:
    """Chats on three models (streamed and not), embeddings, repeated translations (cache hits), one client
    mistake; then the second account's allowance runs out, as Cloudflare says with 3036."""
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        for turn in range(12):
            model = CHAT[turn % len(CHAT)]
            question = [{"role": "user", "content": f"Question {turn}: what is a neuron, in Workers AI?"}]
            if turn % 2:
                stream = client.chat.completions.create(model=model, messages=question, stream=True)
                assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            else:
                assert client.chat.completions.create(model=model, messages=question).choices[0].message.content
        client.embeddings.create(model="text-embedding-3-small", input=["status", "page", "neurons"])
        upstream.fault(code=5006, status=400, times=1)  # a request Workers AI refuses: counted as an error
        try:
            client.chat.completions.create(model=CHAT[1], messages=[{"role": "user", "content": "x"}])
        except openai.BadRequestError:
            pass
        for _ in range(3):
            body = {"text": "The allowance resets at midnight UTC.", "source_lang": "EN", "target_lang": "DE"}
            assert call("POST", f"{url}/translate?token={TEST_KEY}", body, {"Content-Type": "application/json"}).status
        upstream.fault(account=ACCOUNTS[1], code=3036, status=429, times=100)
        for turn in range(3):  # each may try the second account first: it is marked exhausted, the first answers
            question = [{"role": "user", "content": f"After the allowance, {turn}"}]
            assert client.chat.completions.create(model=CHAT[0], messages=question).choices


def picture(path: Path) -> None:
    """The README's screenshot: the page after `send_traffic`, PICTURE_WIDTH CSS pixels wide."""
    with emulator(token=CF_TOKEN) as upstream_url, two_accounts(Emulator(upstream_url)) as url:
        send_traffic(url, Emulator(upstream_url))
        with tempfile.TemporaryDirectory() as profile, Chromium(Path(profile)) as browser:
            browser.open(f"{url}/status?key={TEST_KEY}", PICTURE_WIDTH)
            path.write_bytes(browser.screenshot(PICTURE_WIDTH))


if __name__ == "__main__":
    picture(Path(sys.argv[1]))

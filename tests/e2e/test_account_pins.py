"""A key pinned to an account (ACCOUNT_KEY_PINS) when that account has used up its day: the key gets a 429
that names its pinned account, not "every account", while the other keys go on through the rest."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import CF_TOKEN, TEST_KEY
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
A, B = "acct-alpha-0001", "acct-bravo-0002"
OTHER_KEY = "sk-other-key-2"
HELLO = [{"role": "user", "content": "Say hello"}]


def test_a_pinned_keys_account_used_up_is_a_429_naming_it(upstream: Emulator) -> None:
    env = managed_env(
        upstream.api_base,
        CF_ACCOUNTS=f"{A}:{CF_TOKEN},{B}:{CF_TOKEN}",
        GATEWAY_API_KEYS=f"{TEST_KEY},{OTHER_KEY}",
        ACCOUNT_KEY_PINS=f'{{"{TEST_KEY}": "{A}"}}',
    )
    with gateway(env) as (url, _):
        upstream.fault(account=A, code=4006, times=100)
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as pinned:
            with pytest.raises(openai.RateLimitError) as caught:
                pinned.chat.completions.create(model=LLAMA, messages=HELLO)
        with openai.OpenAI(base_url=f"{url}/v1", api_key=OTHER_KEY, max_retries=0) as other:
            served = other.chat.completions.create(model=LLAMA, messages=HELLO)
    error = caught.value.response.json()["error"]
    assert error["code"] == "daily_limit_exceeded" and int(caught.value.response.headers["retry-after"]) > 0
    assert error["message"].startswith("The Cloudflare account this key is pinned to (ACCOUNT_KEY_PINS) has used up")
    assert served.choices[0].message.content
    runs = [r["path"].split("/")[4] for r in upstream.requests() if "/ai/run/" in r["path"]]
    assert runs == [A, B]  # the pinned key never reached B

"""The account pool's remaining promises on the emulator: a gateway key's daily neurons
(GATEWAY_KEY_NEURONS_PER_DAY), and failover on an upstream 429, a timeout and a dropped connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.e2e import test_accounts as shared
from tests.e2e.test_accounts import HELLO, LLAMA, A, B, Pool, accounts_called, seconds_to_midnight
from tests.proxy_servers import Relay, pipe
from tests.servers import Emulator

redis_url, pools = shared.redis_url, shared.pools  # the shared fixtures: each test on memory and on Redis
OTHER_KEY = "second-gateway-key"
FLUX = "@cf/black-forest-labs/flux-1-schnell"  # 57.6 neurons a picture (test_accounts.py works it out)


def test_a_key_past_its_daily_neurons_gets_a_429_while_another_key_still_works(upstream: Emulator, pools: Pool) -> None:
    keys = f"{TEST_KEY},{OTHER_KEY}"
    with pools(A, B, GATEWAY_API_KEYS=keys, GATEWAY_KEY_NEURONS_PER_DAY="100") as (client, url, _):
        for _ in range(2):  # 0, then 57.6 neurons used before each: both under the 100
            assert client.images.generate(model=FLUX, prompt="a lighthouse at dusk").data
        time.sleep(0.3)  # with Redis, per-key counters are written together every 0.1 s
        refused = []
        for _ in range(2):  # refused, and still refused: the key's day is over
            with pytest.raises(openai.RateLimitError) as caught:
                client.chat.completions.create(model=LLAMA, messages=HELLO)
            refused.append(caught.value)
        reached = len(accounts_called(upstream))
        with openai.OpenAI(base_url=f"{url}/v1", api_key=OTHER_KEY, max_retries=0) as other:
            answer = other.chat.completions.create(model=LLAMA, messages=HELLO)
    assert reached == 2  # the refused calls never reached Workers AI
    assert answer.choices[0].message.content and len(accounts_called(upstream)) == 3
    for error in refused:
        assert error.response.status_code == 429
        assert abs(int(error.response.headers["retry-after"]) - seconds_to_midnight()) < 5
        body = error.response.json()
        assert list(body) == ["error"] and set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == "requests" and body["error"]["param"] is None
        assert body["error"]["code"] == "daily_limit_exceeded"
        message = body["error"]["message"]
        assert "100 neurons" in message and "GATEWAY_KEY_NEURONS_PER_DAY" in message and "00:00 UTC" in message


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 429, "no_code": True}, id="429 with no code"),
        # Cloudflare's edge may send a 429 as an HTML page: it is failed over all the same.
        pytest.param({"status": 429, "non_json": True}, id="429 page not JSON"),
    ],
)
def test_an_upstream_429_fails_over(upstream: Emulator, pools: Pool, fault: dict[str, object]) -> None:
    with pools(A, B) as (client, _, _):
        upstream.fault(account=A, times=10, **fault)
        answers = [client.chat.completions.create(model=LLAMA, messages=HELLO) for _ in range(4)]
        called = accounts_called(upstream)
    assert all(answer.choices[0].message.content for answer in answers)
    assert called.count(B) == 4 and called.count(A) >= 1


def test_an_upstream_timeout_fails_over(upstream: Emulator, pools: Pool) -> None:
    with pools(A, B, UPSTREAM_TIMEOUT="0.5") as (client, _, _):
        upstream.fault(account=A, latency_ms=4000, times=10)  # A answers, but too late
        answers, seconds = [], []
        for _ in range(3):
            started = time.monotonic()
            answers.append(client.chat.completions.create(model=LLAMA, messages=HELLO))
            seconds.append(time.monotonic() - started)
        called = accounts_called(upstream)
    assert all(answer.choices[0].message.content for answer in answers)
    assert called.count(B) == 3 and called.count(A) >= 1
    assert max(seconds) < 3  # nobody waited for A's late answer: 0.5 s, the backoff, then B


class CuttingRelay(Relay):
    """A TCP relay in front of the emulator that drops (RST) every connection on which a run call for
    `account` arrives, before it reaches the emulator: to the gateway, that account's Workers AI cannot be
    reached. Every account shares one CF_API_BASE, so a refused connect cannot single out one account; a
    connection reset after the request is the closest. Counts the calls it cut."""

    def __init__(self, backend_port: int, account: str) -> None:
        self.account = account
        self.cut = 0
        super().__init__(backend_port)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        back_reader, back_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        answers = asyncio.ensure_future(pipe(back_reader, writer))
        try:
            while True:  # one request at a time: the gateway does not pipeline
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                if f"/accounts/{self.account}/ai/run/".encode() in head.split(b"\r\n")[0]:
                    self.cut += 1
                    writer.transport.abort()
                    return
                back_writer.write(head + body)
                await back_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            answers.cancel()
            back_writer.close()


@contextmanager
def cutting(upstream: Emulator, account: str) -> Iterator[CuttingRelay]:
    port = int(upstream.url.rsplit(":", 1)[1])
    relay = CuttingRelay(port, account)
    try:
        yield relay
    finally:
        relay.close()


def test_a_connection_failure_fails_over(upstream: Emulator, pools: Pool) -> None:
    with cutting(upstream, A) as relay, pools(A, B, CF_API_BASE=relay.api_base) as (client, _, _):
        answers = [client.chat.completions.create(model=LLAMA, messages=HELLO) for _ in range(4)]
        called = accounts_called(upstream)
    assert all(answer.choices[0].message.content for answer in answers)
    assert called.count(B) == 4 and A not in called  # every answer came from B
    assert relay.cut >= 1  # and A was tried: its connection was dropped

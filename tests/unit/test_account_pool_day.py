"""The account pool across 00:00 UTC, on a clock the test moves: today's counters start again, and an
account that used up its allowance serves again. The real pool and upstream client, against a loopback
stand-in for Workers AI that answers 4006 for the accounts told to."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.accounts.calls import PooledWorkersAI
from app.accounts.pool import AccountPool
from app.catalog import Catalog
from app.errors import UpstreamError
from app.state import MemoryState
from app.upstream.client import Credentials, WorkersAI
from tests.loopback import LoopbackServer

A, B = "acct-alpha-0001", "acct-bravo-0002"
LLAMA = "@cf/mistralai/mistral-small-3.1-24b-instruct"
PROMPT = {"messages": [{"role": "user", "content": "Say hello"}]}
ANSWER_USAGE = {"prompt_tokens": 1000, "completion_tokens": 1000}
ANSWER = (
    b'{"success":true,"errors":[],"result":{"response":"hi","usage":{"prompt_tokens":1000,"completion_tokens":1000}}}'
)
OUT_OF_NEURONS = (
    b'{"success":false,"result":null,"errors":[{"code":4006,"message":"AiError: AiError: you have used up your '
    b"daily free allocation of 10,000 neurons, please upgrade to Cloudflare's Workers Paid plan if you would "
    b'like to continue usage. (0b5d5a2c-7e8f-4d7e-9a8b-1c2d3e4f5a6b)"}]}'
)
COST = (0.35 * 1000 + 0.56 * 1000) / 1_000_000 / 0.011 * 1000  # mistral-small-3.1 prices, USD -> neurons
EVENING = datetime(2026, 3, 14, 23, 50, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 3, 15, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class WorkersAIStandIn(LoopbackServer):
    """Answers run calls on the accounts in `spent` with Workers AI's 4006, the others with a chat answer
    of 1,000 prompt and 1,000 completion tokens. `calls`: the account of each run call, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.spent: set[str] = set()
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = next((int(h.split(b":")[1]) for h in lines if h.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                account = lines[0].split(b" ")[1].split(b"/")[4].decode()  # /client/v4/accounts/{id}/ai/run/...
                self.calls.append(account)
                status, body = (
                    (b"429 Too Many Requests", OUT_OF_NEURONS) if account in self.spent else (b"200 OK", ANSWER)
                )
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (status, len(body))
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_at_midnight_the_counters_restart_and_an_exhausted_account_serves_again() -> None:
    async def main() -> None:
        clock = Clock(EVENING)
        async with WorkersAIStandIn() as server:
            client = WorkersAI(server.url, timeout=5)
            await client.start()
            pool = AccountPool(
                [Credentials(A, "t"), Credentials(B, "t")], state=MemoryState(), catalog=Catalog(), clock=clock
            )
            upstream = PooledWorkersAI(client, pool)  # as app/main.py builds it
            server_creds = Credentials(A, "t")
            server.spent = {A}  # A used up today's allowance: it answers 4006 until Workers AI's reset
            for _ in range(3):
                assert await upstream.run(server_creds, LLAMA, PROMPT) == {"response": "hi", "usage": ANSWER_USAGE}
            clock.now = MIDNIGHT - 1  # still the 14th: A is not asked again
            assert await upstream.run(server_creds, LLAMA, PROMPT)
            evening = await pool.snapshot()
            assert server.calls.count(A) == 1 and server.calls.count(B) == 4

            server.spent = set()  # Workers AI's new day
            clock.now = MIDNIGHT + 5
            before = len(server.calls)
            for _ in range(2):
                assert await upstream.run(server_creds, LLAMA, PROMPT)
            after = await pool.snapshot()
            yesterday = await pool.state.counters(f"usage:{B}:2026-03-14")
            await client.close()

        alpha, bravo = evening.accounts
        assert (evening.day, alpha.state, alpha.until, alpha.neurons_left) == ("2026-03-14", "exhausted", MIDNIGHT, 0)
        assert bravo.state == "ok" and bravo.neurons_used == pytest.approx(4 * COST, abs=0.001)
        # After midnight the two are equals again (B's 4 calls of yesterday no longer count): one call each,
        # A's among them, and A is back to "ok" with the day's allowance.
        assert sorted(server.calls[before:]) == [A, B]
        alpha, bravo = after.accounts
        assert (after.day, after.reset_at) == ("2026-03-15", MIDNIGHT + 86_400)
        assert (alpha.state, alpha.until) == ("ok", None)
        assert alpha.neurons_used == pytest.approx(COST, abs=0.001) and bravo.neurons_used == pytest.approx(
            COST, abs=0.001
        )
        assert alpha.neurons_left == pytest.approx(10_000 - COST, abs=0.001)
        assert yesterday["neurons"] == pytest.approx(4 * COST, abs=0.001)  # the 14th's ledger is kept

    asyncio.run(main())


def test_a_keys_daily_neurons_start_again_at_midnight() -> None:
    async def main() -> tuple[list[UpstreamError], int]:
        clock = Clock(MIDNIGHT - 100)
        refused: list[UpstreamError] = []
        async with WorkersAIStandIn() as server:
            client = WorkersAI(server.url, timeout=5)
            await client.start()
            pool = AccountPool(
                [Credentials(A, "t")], state=MemoryState(), catalog=Catalog(), key_neurons=150, clock=clock
            )
            upstream = PooledWorkersAI(client, pool)  # as app/main.py builds it
            keyed = Credentials(A, "t", key="a-key-hash")
            for _ in range(2):  # 0, then ~83 neurons used before each: both under the 150
                await pool.admit(keyed.key)  # what app/caller.py does once a request
                assert await upstream.run(keyed, LLAMA, PROMPT)
                await asyncio.sleep(0)  # the key's count is written just after the answer
            for now in (MIDNIGHT - 60, MIDNIGHT - 1):
                clock.now = now
                with pytest.raises(UpstreamError) as caught:
                    await pool.admit(keyed.key)
                refused.append(caught.value)
            clock.now = MIDNIGHT + 1
            await pool.admit(keyed.key)  # a new day, a new allowance
            assert await upstream.run(keyed, LLAMA, PROMPT)
            await client.close()
            return refused, len(server.calls)

    refused, calls = asyncio.run(main())
    assert calls == 3  # the refused calls never reached Workers AI
    assert [(e.status_code, e.code, e.headers["Retry-After"]) for e in refused] == [
        (429, "daily_limit_exceeded", "60"),
        (429, "daily_limit_exceeded", "1"),
    ]

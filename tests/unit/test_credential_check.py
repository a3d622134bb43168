"""The credential check's rechecks, against a loopback server that answers what a test scripts: a marked
account is asked again at its recheck, and a failed ask (Cloudflare down) waits a whole period again."""

from __future__ import annotations

import asyncio

from app.accounts.check import CredentialCheck
from app.accounts.pool import AccountPool
from app.catalog import Catalog
from app.state import MemoryState
from app.upstream.client import Credentials, WorkersAI
from tests.loopback import LoopbackServer

REJECTED = b'{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[]}'
DOWN = b"<html>502 Bad Gateway</html>"
RECHECK = 900.0


class Cloudflare(LoopbackServer):
    """Answers each request with the next scripted (status, body), and counts them."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.asked = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            status, body = self.answers[min(self.asked, len(self.answers) - 1)]
            self.asked += 1
            head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()


def test_a_failed_recheck_waits_a_whole_period_and_a_good_one_brings_the_account_back() -> None:
    now = [1000.0]

    async def scenario() -> tuple[float, float, int, str]:
        async with Cloudflare((401, REJECTED), (502, DOWN), (200, b'{"success":true,"result":[]}')) as server:
            upstream = WorkersAI(f"http://127.0.0.1:{server.port}/client/v4", timeout=5)
            await upstream.start()
            pool = AccountPool(
                [Credentials("acct-0001", "t")],
                state=MemoryState(),
                catalog=Catalog(),
                recheck=RECHECK,
                clock=lambda: now[0],
            )
            check = CredentialCheck(pool, upstream)
            (account,) = pool.accounts
            await check._probe(account, " at start-up")  # rejected: marked until 1000 + RECHECK
            first_wait = check._wait()
            now[0] += RECHECK
            await check._probe(account, "")  # Cloudflare is down: the mark stays, and so does its time
            second_wait = check._wait()
            now[0] += RECHECK
            await check._probe(account, "")  # accepted
            await pool.flush()
            await upstream.close()
            return first_wait, second_wait, server.asked, account.disabled

    first_wait, second_wait, asked, disabled = asyncio.run(scenario())
    assert first_wait == RECHECK
    assert second_wait == RECHECK  # not every second while Cloudflare stays down
    assert asked == 3 and disabled == ""

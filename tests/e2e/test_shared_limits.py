"""Atomic across processes: two gateways on one Redis, hit at the same moment by many concurrent requests,
let exactly the shared per-minute limit through between them (no read-modify-write race lets more in)."""

from __future__ import annotations

import asyncio

import openai
import redis

from tests.conftest import CF_TOKEN, TEST_KEY
from tests.redis_server import RedisServer
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
LIMIT, REQUESTS = 12, 40


async def _burst(urls: list[str]) -> list[bool]:
    """REQUESTS chat requests at once, alternating between the gateways; True for each one served."""
    clients = [openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) for url in urls]

    async def one(client: openai.AsyncOpenAI) -> bool:
        try:
            await client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi"}])
        except openai.RateLimitError:
            return False
        return True

    try:
        return list(await asyncio.gather(*(one(clients[i % len(clients)]) for i in range(REQUESTS))))
    finally:
        for client in clients:
            await client.close()


def test_concurrent_requests_on_two_processes_share_one_limit_exactly(
    upstream: Emulator, redis_server: RedisServer
) -> None:
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    env = managed_env(
        upstream.api_base,
        CF_ACCOUNTS=f"acct-alpha-0001:{CF_TOKEN}",
        REDIS_URL=redis_server.url,
        RATE_LIMITS=f'{{"{LLAMA}": {LIMIT}}}',
        RATE_LIMIT_WAIT_SECONDS="0",
        REDIS_TIMEOUT_SECONDS="1",  # a busy test machine must not push either process onto its fallback
    )
    with gateway(env) as (first, _), gateway(env) as (second, _):
        served = asyncio.run(_burst([first, second]))
    assert sum(served) == LIMIT
    assert len([r for r in upstream.requests() if "/ai/run/" in r["path"]]) == LIMIT

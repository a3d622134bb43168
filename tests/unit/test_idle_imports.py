"""What a gateway without REDIS_URL loads: not the redis client (about 7 MB of resident memory, which the
bench's idle-memory gate counts). Checked in a fresh interpreter, since other tests import it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio, sys
from app.config import Settings
from app.main import create_app

app = create_app(Settings(_env_file=None, redis_url={redis_url!r}))
fastapi_app = app.app

async def start():
    async with fastapi_app.router.lifespan_context(fastapi_app):
        pass

asyncio.run(start())
print("redis" in sys.modules)
"""


def loads_redis(redis_url: str) -> bool:
    probe = PROBE.format(redis_url=redis_url)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip().splitlines()[-1] == "True"


def test_a_gateway_without_redis_url_does_not_load_the_redis_client() -> None:
    assert not loads_redis("")


def test_a_gateway_with_redis_url_does() -> None:
    assert loads_redis("redis://127.0.0.1:9/0")  # nothing listens there: the state falls back, the client loads

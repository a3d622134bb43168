from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.redis_server import RedisServer
from tests.servers import ACCOUNT, CF_TOKEN, TEST_KEY, Emulator, emulator, gateway, managed_env
from tests.tools import pytest_configure, pytest_runtest_setup, pytest_terminal_summary

__all__ = ["ACCOUNT", "CF_TOKEN", "TEST_KEY"]  # what the test modules import from here
__all__ += ["pytest_configure", "pytest_runtest_setup", "pytest_terminal_summary"]  # tests/tools.py's hooks


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for the tests of one module (skipped without one: tests/tools.py)."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def upstream() -> Iterator[Emulator]:
    """One Workers AI emulator for the whole run; requires CF_TOKEN like the real API requires a token."""
    with emulator(token=CF_TOKEN) as url:
        yield Emulator(url)


@pytest.fixture(scope="session")
def managed(upstream: Emulator) -> Iterator[tuple[str, Path]]:
    """The gateway in managed mode: server credentials, clients present TEST_KEY."""
    env = managed_env(
        upstream.api_base,
        GATEWAY_API_KEYS=f"other-key,{TEST_KEY}",
        LOG_LEVEL="info",
        MAX_BODY_BYTES="2000000",
        ACCOUNT_RECHECK_SECONDS="0",  # a quota or token fault of one test must not take the account from the next
    )
    with gateway(env) as served:
        yield served


@pytest.fixture(scope="session")
def gateway_url(managed: tuple[str, Path]) -> str:
    return managed[0]


@pytest.fixture
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """The official OpenAI client pointed at the gateway (no retries, so every error is seen)."""
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        yield client


@pytest.fixture(autouse=True)
def clean_upstream(request: pytest.FixtureRequest) -> None:
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").reset()

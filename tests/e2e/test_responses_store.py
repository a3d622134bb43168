"""Stored responses are bounded as the settings say, in memory and in Redis: RESPONSES_RETENTION_SECONDS
(gone after it: retrieval and continuation are 404s) and RESPONSES_MAX_STORED_BYTES (a larger response is
answered, not kept, and the log says so)."""

from __future__ import annotations

import time

import openai
import pytest
import redis

from tests.conftest import TEST_KEY
from tests.redis_server import RedisServer
from tests.servers import Emulator, gateway, managed_env

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings of the state backend under test (an emptied Redis for "redis")."""
    if request.param == "memory":
        return {}
    server: RedisServer = request.getfixturevalue("redis_server")
    with redis.Redis.from_url(server.url) as client:
        client.flushdb()
    return {"REDIS_URL": server.url}


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0)


def test_a_stored_response_is_gone_after_the_retention_period(upstream: Emulator, backend: dict[str, str]) -> None:
    env = managed_env(upstream.api_base, RESPONSES_RETENTION_SECONDS="1", **backend)
    with gateway(env) as (url, _), _client(url) as client:
        made = client.responses.create(model=LLAMA, input="Repeat after me: short-lived")
        assert client.responses.retrieve(made.id).output_text == "short-lived"
        time.sleep(1.5)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(made.id)
        with pytest.raises(openai.NotFoundError) as caught:
            client.responses.create(model=LLAMA, input="and then?", previous_response_id=made.id)
    assert caught.value.body["param"] == "previous_response_id"  # type: ignore[index]


def test_a_response_over_the_size_bound_is_answered_and_not_kept(upstream: Emulator, backend: dict[str, str]) -> None:
    env = managed_env(upstream.api_base, RESPONSES_MAX_STORED_BYTES="3000", **backend)
    with gateway(env) as (url, log), _client(url) as client:
        small = client.responses.create(model=LLAMA, input="Repeat after me: fits")
        large = client.responses.create(model=LLAMA, input="Repeat after me: " + "long words " * 300)
        assert large.status == "completed" and large.output_text.startswith("long words")
        assert client.responses.retrieve(small.id).output_text == "fits"
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(large.id)
        continued = client.responses.create(model=LLAMA, input="Repeat after me: again", previous_response_id=small.id)
        assert continued.output_text == "again"
    assert f"response {large.id} not stored" in log.read_text()

"""docker-compose.yml and deploy/nginx.conf: the file agrees with the gateway's settings, and nginx run from
deploy/nginx.conf (its upstream pointed at two loopback gateways on one Redis, nothing else changed) streams,
balances and keeps what the replicas share. Docker itself is not needed."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from app.config import Settings
from tests.conftest import TEST_KEY
from tests.http import call
from tests.redis_server import RedisServer
from tests.servers import Emulator, free_port, gateway, managed_env, running
from tests.tools import require

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
UPSTREAM_SERVER = re.compile(r"^\s*server\s+([\w.-]+):(\d+)\s+resolve;", re.MULTILINE)
MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def _directive(name: str) -> str:
    found = re.findall(rf"^\s*{name}\s+([^;]+);", NGINX_CONF.read_text(), re.MULTILINE)
    assert len(found) == 1, f"{name}: {found}"
    return str(found[0]).strip()


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)?", value).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[unit]


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_compose_file_agrees_with_the_gateway_and_nginx() -> None:
    services = _services()
    gateways = {name: s for name, s in services.items() if s.get("image", "").startswith("workers-ai-gateway")}
    replicated = [name for name, s in gateways.items() if "deploy" in s]
    assert replicated == ["replica"]
    replicas = re.fullmatch(r"\$\{GATEWAY_REPLICAS:-(\d+)\}", str(services["replica"]["deploy"]["replicas"]))
    assert replicas and int(replicas[1]) >= 2
    for name, service in gateways.items():
        env = service["environment"]
        assert _seconds(service["stop_grace_period"]) > float(env["SHUTDOWN_TIMEOUT"]), name
        assert "/healthz" in " ".join(service["healthcheck"]["test"]), name
        assert service["volumes"] == ["gateway-data:/srv/data"], name  # the Dockerfile's DATA_DIR, one volume
    replica = services["replica"]["environment"]
    assert replica["REDIS_URL"] == "redis://redis:6379/0" and replica["TRUST_PROXY_HEADERS"] == "true"
    assert services["replica"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in services["replica"] and "ports" not in services["redis"]  # only nginx is published
    assert services["redis"]["image"] == "redis:7-alpine" and services["redis"]["healthcheck"]
    assert services["gateway"]["profiles"] and services["gateway"]["ports"] == ["8000:8000"]  # the one-container way

    nginx = services["nginx"]
    assert nginx["ports"] == ["8000:8000"] and "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "/healthz" in " ".join(nginx["healthcheck"]["test"])
    assert UPSTREAM_SERVER.findall(NGINX_CONF.read_text()) == [("replica", replica["PORT"])]
    assert _seconds(_directive("worker_shutdown_timeout")) < _seconds(nginx["stop_grace_period"])
    # nginx lets a body a little over the gateway's limit through, so the gateway answers it (JSON 413).
    assert _default("max_body_bytes") < _bytes(_directive("client_max_body_size")) <= 2 * _default("max_body_bytes")
    assert _seconds(_directive("keepalive_timeout")) < _default("keepalive_timeout")
    longest = max(_default("upstream_timeout"), _default("upstream_read_timeout"))
    assert _seconds(_directive("proxy_read_timeout")) > longest
    assert _directive("proxy_buffering") == "off"


def _local_conf(directory: Path, listen: int, replicas: list[str]) -> Path:
    """deploy/nginx.conf with its upstream on the loopback gateways (no Docker DNS), its port and temp
    directories on this machine; everything else as shipped."""
    text = NGINX_CONF.read_text()
    text, resolvers = re.subn(r"^\s*resolver [^;]+;\n", "", text, flags=re.MULTILINE)
    servers = "".join(f"        server {address};\n" for address in replicas)
    text, upstreams = UPSTREAM_SERVER.subn(servers.rstrip("\n"), text)
    text, listens = re.subn(r"listen 8000;", f"listen 127.0.0.1:{listen};", text)
    temp = f"client_body_temp_path {directory}/body; proxy_temp_path {directory}/proxy;"
    text = text.replace("http {", "http {\n    " + temp, 1)
    assert (resolvers, upstreams, listens) == (1, 1, 1)
    conf = directory / "nginx.conf"
    conf.write_text(text)
    return conf


@pytest.fixture(scope="module")
def behind_nginx(upstream: Emulator) -> Iterator[tuple[str, list[Path]]]:
    """nginx from deploy/nginx.conf in front of two gateways on one Redis and one DATA_DIR: (nginx's URL,
    the two gateways' logs)."""
    nginx = require("nginx")
    redis = RedisServer()
    redis.start()
    with ExitStack() as stack:
        stack.callback(redis.stop)
        work = stack.enter_context(_world_readable_tempdir())
        env = managed_env(
            upstream.api_base,
            REDIS_URL=redis.url,
            REDIS_TIMEOUT_SECONDS="2",  # a busy test machine must not fall back to per-process state
            TRUST_PROXY_HEADERS="true",
            DATA_DIR=str(work / "data"),
        )
        served = [stack.enter_context(gateway(env)) for _ in range(2)]
        port = free_port()
        conf = _local_conf(work, port, [url.removeprefix("http://") for url, _ in served])
        args = [nginx, "-e", "stderr", "-p", str(work), "-c", str(conf), "-g", f"daemon off; pid {work}/nginx.pid;"]
        stack.enter_context(running(args, f"http://127.0.0.1:{port}/healthz"))
        yield f"http://127.0.0.1:{port}", [log for _, log in served]


@contextmanager
def _world_readable_tempdir() -> Iterator[Path]:
    """A temporary directory nginx's workers (`nobody` when the test runs as root) can enter too."""
    path = Path(tempfile.mkdtemp(prefix="wag-nginx-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def client(behind_nginx: tuple[str, list[Path]]) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{behind_nginx[0]}/v1", api_key=TEST_KEY, max_retries=0, timeout=30) as client:
        yield client


def _replica(headers: Any) -> str:
    """Which gateway process answered: its request-id prefix (random per process)."""
    return str(headers["x-request-id"])[:20]


def test_a_stream_passes_nginx_event_by_event(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(chunk_delay_ms=100)  # 20 words at 100 ms: about 2 s in all
    words = " ".join(f"w{i}" for i in range(20))
    started = time.monotonic()
    arrivals, text = [], ""
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": f"Repeat after me: {words}"}], stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
            text += chunk.choices[0].delta.content
    assert text == words
    assert arrivals[0] < 1.0 and arrivals[-1] > 1.5  # the first word came long before the last: not held back


def test_requests_are_spread_over_both_replicas(client: openai.OpenAI) -> None:
    answered_by = set()
    for _ in range(6):
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": "Repeat after me: hi"}]
        )
        assert raw.parse().choices[0].message.content == "hi"
        answered_by.add(_replica(raw.headers))
    assert len(answered_by) == 2


def test_a_hosted_image_is_served_by_every_replica_at_the_public_address(
    client: openai.OpenAI, behind_nginx: tuple[str, list[Path]]
) -> None:
    url = (client.images.generate(model=SDXL, prompt="a boat", size="256x256").data or [])[0].url or ""
    assert url.startswith(f"{behind_nginx[0]}/")  # built from nginx's X-Forwarded-Proto/-Host, not a replica's
    fetched = [call("GET", url) for _ in range(4)]
    assert all(answer.status == 200 and answer.body.startswith(b"\x89PNG") for answer in fetched)
    assert len({_replica(answer.headers) for answer in fetched}) == 2  # both replicas read the shared DATA_DIR


def test_a_stored_response_is_found_by_every_replica(client: openai.OpenAI) -> None:
    made = client.responses.create(model=MODEL, input="Repeat after me: keep me")
    found_by = set()
    for _ in range(4):
        raw = client.responses.with_raw_response.retrieve(made.id)
        assert raw.parse().output_text == "keep me"
        found_by.add(_replica(raw.headers))
    assert len(found_by) == 2  # kept in Redis, not in the process that answered


def test_a_body_over_nginx_default_1m_reaches_the_gateway(behind_nginx: tuple[str, list[Path]]) -> None:
    text = "word " * 400_000  # 2 MB: nginx's default client_max_body_size (1m) would answer 413 itself
    body = {"model": "@cf/baai/bge-small-en-v1.5", "input": text}
    answer = call("POST", f"{behind_nginx[0]}/v1/embeddings", body, {"Authorization": f"Bearer {TEST_KEY}"})
    assert answer.headers["content-type"].startswith("application/json")  # the gateway's answer, not nginx's page
    assert answer.status == 200 or answer.error["type"] == "invalid_request_error"


def test_a_body_over_max_body_bytes_gets_the_gateways_json_413_through_nginx(client: openai.OpenAI) -> None:
    """nginx's own limit sits above the gateway's, so the client learns the gateway's limit in OpenAI's error
    JSON: not nginx's HTML page, not a reset connection."""
    limit = _default("max_body_bytes")
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x" * (limit + 1)}])
    assert raised.value.status_code == 413
    assert raised.value.response.headers["content-type"].startswith("application/json")
    error = raised.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert str(limit) in error["message"]


def _bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]

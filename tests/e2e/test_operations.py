"""/healthz, /readyz and /metrics over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.http import call
from tests.redis_server import RedisServer
from tests.servers import Emulator, gateway, managed_env


def test_healthz_and_readyz(gateway_url: str) -> None:
    assert call("GET", f"{gateway_url}/healthz").json() == {"status": "ok"}
    ready = call("GET", f"{gateway_url}/readyz")
    assert ready.status == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"upstream": True, "storage": True, "accounts": True},
        "accounts": {"total": 1, "checked": True, "rejected": []},
    }


def test_readyz_is_503_when_storage_is_not_writable(upstream: Emulator, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with gateway(managed_env(upstream.api_base, DATA_DIR=str(data))) as (url, _):
        assert call("GET", f"{url}/readyz").status == 200
        # A file where the data directory was: unwritable for root too (chmod is not).
        data.rename(tmp_path / "gone")
        data.write_text("a file, not a directory")
        ready = call("GET", f"{url}/readyz")
    assert ready.status == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["checks"]["storage"] is False
    assert "not writable" in body["failing"]["storage"]


def test_metrics_parse_and_token(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, METRICS_TOKEN="scrape-secret")) as (url, _):
        assert call("GET", f"{url}/metrics").status == 401
        answer = call("GET", f"{url}/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(answer.body.decode())}
    assert {"gateway_requests", "gateway_upstream_seconds", "gateway_tokens", "gateway_accounts"} <= names


def test_metrics_can_be_off(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base, METRICS_ENABLED="false")) as (url, _):
        assert call("GET", f"{url}/metrics").status == 404


def test_readyz_reports_redis(upstream: Emulator) -> None:
    server = RedisServer()
    server.start()
    try:
        with gateway(managed_env(upstream.api_base, REDIS_URL=server.url)) as (url, _):
            ready = call("GET", f"{url}/readyz")
            assert ready.status == 200 and ready.json()["checks"]["redis"] is True
            server.stop()
            down = call("GET", f"{url}/readyz")
            assert down.status == 503 and "serving from memory" in down.json()["failing"]["redis"]
            assert call("GET", f"{url}/health").status == 200  # still serving
            server.start()  # same port: the gateway's probe finds it again
            deadline = time.monotonic() + 20
            while call("GET", f"{url}/readyz").status != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert call("GET", f"{url}/readyz").json()["checks"]["redis"] is True
    finally:
        server.stop()

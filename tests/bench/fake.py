"""The bench's fake upstream as a real process, and a gateway on it, for the scenario tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.endpoints import GATEWAY_KEY, UPSTREAM_TOKEN
from tests.servers import free_port, gateway_process, running

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def gateway_on_fake_upstream(**settings: str) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """(the fake upstream's URL, the gateway's URL, the gateway's process), the gateway as `make bench`
    starts it (its account, token and key), `settings` added."""
    port = free_port()
    upstream = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "bench.fake_upstream", "--port", str(port)]
    with running(args, f"{upstream}/__bench/health", {"PYTHONPATH": str(ROOT)}):
        env = {
            "CF_API_BASE": f"{upstream}/client/v4",
            "CF_ACCOUNT_ID": "bench",
            "CF_API_TOKEN": UPSTREAM_TOKEN,
            "GATEWAY_API_KEYS": GATEWAY_KEY,
            **settings,
        }
        with gateway_process(env) as (url, process, _):
            yield upstream, url, process

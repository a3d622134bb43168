"""UPSTREAM_CONNECT_TIMEOUT (issue 27's audit of the timeout settings): a Workers AI address that takes the
connection attempt but never completes it is given up on after the connect timeout, not after
UPSTREAM_TIMEOUT, and the gateway answers a 504 that names the setting."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import gateway, managed_env


@contextmanager
def never_accepting() -> Iterator[int]:
    """A loopback port whose accept queue is full: the kernel drops new SYNs, so a connect hangs (as behind a
    firewall that drops packets), where a closed port would refuse at once."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        time.sleep(0.2)
        with socket.socket() as probe:
            probe.settimeout(0.5)
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "the kernel accepted: no hanging connect here"
        try:
            yield port
        finally:
            for filler in fillers:
                filler.close()


def test_a_connect_that_never_completes_ends_after_the_connect_timeout() -> None:
    with never_accepting() as port:
        env = managed_env(f"http://127.0.0.1:{port}/client/v4", UPSTREAM_CONNECT_TIMEOUT="1", UPSTREAM_RETRIES="0")
        with gateway(env) as (url, _):
            body = {"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "hi"}]}
            headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
            started = time.monotonic()
            answer = call("POST", f"{url}/v1/chat/completions", body, headers, timeout=60)
            took = time.monotonic() - started
    assert answer.status == 504 and answer.error["code"] == "upstream_timeout"
    assert answer.error["message"] == "No connection to Workers AI within 1 s (UPSTREAM_CONNECT_TIMEOUT)."
    assert 0.9 < took < 4.0, took  # 1 s, never UPSTREAM_TIMEOUT's 300 s

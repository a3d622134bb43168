"""Start the emulator and the gateway as real processes on loopback ports, the way users start them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from app.config import Settings

BIN = Path(sys.executable).parent
# Every setting the gateway reads (so the machine's environment never changes what a test starts), and the
# proxy variables in both cases (the machine's own proxy must not take the gateway's loopback traffic).
CLEARED = frozenset(
    {name.upper() for name in Settings.model_fields}
    | {name.lower() for name in Settings.model_fields}
    | {"ALL_PROXY", "all_proxy"}
)


TEST_KEY = "test-gateway-key"
CF_TOKEN = "cf-test-token"
ACCOUNT = "0123456789abcdef0123456789abcdef"


def managed_env(api_base: str, **settings: str) -> dict[str, str]:
    """A managed gateway's environment: server credentials for the upstream at `api_base`, clients
    presenting TEST_KEY; `settings` added (or overriding)."""
    return {
        "CF_API_BASE": api_base,
        "CF_ACCOUNT_ID": ACCOUNT,
        "CF_API_TOKEN": CF_TOKEN,
        "GATEWAY_API_KEYS": TEST_KEY,
    } | settings


def clean_environ() -> dict[str, str]:
    """This process's environment without any setting the gateway reads."""
    return {k: v for k, v in os.environ.items() if k not in CLEARED and k.upper() not in CLEARED}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")


@contextmanager
def started(
    args: list[str], health_url: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A server process and its log, once it answers `health_url`; stopped (unless it already exited,
    and its log kept) at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="wag-"))  # no stray .env is read from the repo
    log = workdir / "server.log"
    full_env = clean_environ()
    full_env.update(env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=workdir, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_up(health_url, process, log)
            yield process, log
        finally:
            stop(process)


@contextmanager
def running(args: list[str], health_url: str, env: dict[str, str] | None = None) -> Iterator[Path]:
    """A server process, stopped (and its log kept) at the end."""
    with started(args, health_url, env) as (_, log):
        yield log


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it is still there 10 s later."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def emulator(**options: str) -> Iterator[str]:
    port = free_port()
    args = [str(BIN / "workers-ai-gateway"), "emulator", "--port", str(port)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", value]
    with running(args, f"http://127.0.0.1:{port}/__emulator/health"):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def gateway(env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    with gateway_process(env) as (url, _, log):
        yield url, log


@contextmanager
def gateway_process(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """The gateway as users start it, with its process (for a test that sends it signals itself)."""
    port = free_port()
    args = [str(BIN / "workers-ai-gateway"), "serve", "--port", str(port)]
    with started(args, f"http://127.0.0.1:{port}/health", env) as (process, log):
        wait_for_credential_check(f"http://127.0.0.1:{port}", log)
        yield f"http://127.0.0.1:{port}", process, log


def wait_for_credential_check(url: str, log: Path, timeout: float = 20.0) -> None:
    """Until a managed gateway's start-up credential check is over (/readyz `accounts.checked`), so the
    call it makes to the upstream neither lands amid a test's own calls nor takes a fault the test queued."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as error:  # 503: not ready, with the same body
            body = json.loads(error.read())
        if body.get("accounts", {}).get("checked") is not False:  # done, or none runs (passthrough, demo)
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url}: the credential check did not end:\n{log.read_text()}")


class Emulator:
    """The emulator's control API: faults to inject, and what reached it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api_base = f"{url}/client/v4"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return json.loads(raw) if raw else None

    def fault(self, **fault: Any) -> None:
        fault.setdefault("model", "*")
        self._call("POST", "/__emulator/faults", fault)

    def reset(self) -> None:
        self._call("DELETE", "/__emulator/faults")
        self._call("DELETE", "/__emulator/requests")
        self._call("DELETE", "/__emulator/script")
        self._call("DELETE", "/__emulator/plans")
        self._call("PUT", "/__emulator/queue", {"seconds": 0.5})

    def script(self, *replies: dict[str, Any]) -> None:
        """Queue what text models answer next (app/emulator/script.py), in order."""
        self._call("POST", "/__emulator/script", list(replies))

    def script_state(self) -> dict[str, Any]:
        """`{pending: [...], served: n}`: the replies not yet consumed and how many were."""
        result: dict[str, Any] = self._call("GET", "/__emulator/script")
        return result

    def plans(self, **plans: list[str]) -> dict[str, list[str]]:
        """Set the emulator's free accounts (`free_accounts`) and paid-only models (`paid_only_models`)."""
        result: dict[str, list[str]] = self._call("PUT", "/__emulator/plans", plans)
        return result

    def queue(self, seconds: float | None = None) -> dict[str, Any]:
        """Workers AI's batch queue in the emulator: `{submits, polls, pending, seconds}`; with `seconds`, how
        long a queued request takes from now on, and the counts start again at 0."""
        if seconds is None:
            counts: dict[str, Any] = self._call("GET", "/__emulator/queue")
            return counts
        result: dict[str, Any] = self._call("PUT", "/__emulator/queue", {"seconds": seconds})
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/__emulator/requests")
        return result

    def streams(self) -> dict[str, int]:
        """How the emulator's event streams ended: completed, cut, disconnected."""
        result: dict[str, int] = self._call("GET", "/__emulator/streams")
        return result

    def last_run(self) -> dict[str, Any]:
        """The body of the last run call that reached the emulator."""
        runs = [r for r in self.requests() if "/ai/run/" in r["path"]]
        assert runs, "no run call reached the emulator"
        body: dict[str, Any] = runs[-1]["body_json"]
        return body


@contextmanager
def in_thread(config: uvicorn.Config) -> Iterator[uvicorn.Server]:
    """An app served by uvicorn on a thread of this process (a test reaching into the app), until the block ends."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(10)

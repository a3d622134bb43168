"""`workers-ai-gateway serve` as users run it: a port already taken is one clear line and a non-zero exit; a
start says one banner (mode, URL, docs, status page), not buried by the demo emulator's own lines."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.http import call
from tests.servers import BIN, Emulator, clean_environ, gateway, managed_env

RULE = "=" * 78


@contextmanager
def taken_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def serve(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "workers-ai-gateway"), "serve", *args],
        cwd=tmp_path,  # no stray .env
        env=clean_environ() | env,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.parametrize("how", ["--port", "PORT"])
@pytest.mark.parametrize("mode", ["demo", "managed"])
def test_a_port_in_use_is_one_clear_line_and_a_non_zero_exit(
    how: str, mode: str, upstream: Emulator, tmp_path: Path
) -> None:
    env = {} if mode == "demo" else managed_env(upstream.api_base)
    with taken_port() as port:
        args = ["--port", str(port)] if how == "--port" else []
        if how == "PORT":
            env = env | {"PORT": str(port)}
        done = serve(args, env, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert len(errors) == 1, output
    assert f"127.0.0.1:{port}" in errors[0] and f"port {port} is already in use" in errors[0]
    assert "PORT" in errors[0] and "--port" in errors[0]
    # Said before anything started: no emulator, no app start-up, no URL that does not answer.
    assert "Errno" not in output and "emulator" not in output.lower() and "startup" not in output
    assert "http://" not in output
    assert len(output.splitlines()) == 1, output


def start_lines(log: Path) -> list[str]:
    """The log up to the end of the banner, and what came after it (request lines and the like)."""
    return log.read_text().splitlines()


def after_banner(lines: list[str]) -> list[str]:
    rules = [i for i, line in enumerate(lines) if line.endswith(RULE)]
    assert len(rules) == 2, "\n".join(lines)
    return lines[rules[1] + 1 :]


def banner_of(lines: list[str]) -> list[str]:
    rules = [i for i, line in enumerate(lines) if line.endswith(RULE)]
    return lines[rules[0] : rules[1] + 1]


def test_a_demo_start_says_one_banner_last_with_the_urls_that_answer() -> None:
    with gateway({}) as (url, log):
        lines = start_lines(log)
        assert call("GET", f"{url}/docs").status == 200
        assert call("GET", f"{url}/status").status == 200
    banner = "\n".join(banner_of(lines))
    assert f"serves on {url}" in banner and "DEMO MODE" in banner
    for path in ("/v1", "/docs", "/status"):
        assert f"{url}{path}\n" in banner + "\n"
    # The emulator's own start-up lines are left out, and nothing of the start comes after the banner.
    assert sum("Started server process" in line for line in lines) == 1
    assert not any("Uvicorn running" in line for line in lines)
    assert not any("uvicorn.error" in line for line in after_banner(lines))


def test_a_managed_start_names_the_mode_and_the_accounts(upstream: Emulator) -> None:
    with gateway(managed_env(upstream.api_base)) as (url, log):
        lines = start_lines(log)
    banner = "\n".join(banner_of(lines))
    assert f"serves on {url}" in banner
    assert "Managed mode: 1 Cloudflare account (CF_ACCOUNT_ID / CF_API_TOKEN)" in banner
    assert "DEMO" not in banner and "cf-test-token" not in banner
    assert not any("uvicorn.error" in line for line in after_banner(lines))


def test_a_passthrough_start_names_the_mode(upstream: Emulator) -> None:
    with gateway({"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": "0123456789abcdef0123456789abcdef"}) as (_, log):
        banner = "\n".join(banner_of(start_lines(log)))
    assert "Passthrough mode" in banner

"""WORKERS=2: the command starts two worker processes on one port, both answer, SIGTERM to the parent lets
both finish their open streams and exits 0. Which worker holds a connection is read from /proc (the worker
holding the server side of its socket), so nothing is added to the gateway for the test."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.redis_server import RedisServer
from tests.servers import BIN, Emulator, clean_environ, free_port, gateway_process, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
WORDS = " ".join(f"w{i}" for i in range(30))
NO_REDIS_WARNING = "without REDIS_URL"


def _workers(parent: int) -> set[int]:
    """The parent's worker processes (its other child is multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def _wait_for_workers(parent: int, count: int, within: float = 20) -> set[int]:
    deadline = time.monotonic() + within
    while len(workers := _workers(parent)) != count:
        assert time.monotonic() < deadline, f"{len(workers)} worker processes, expected {count}"
        time.sleep(0.05)
    return workers


def _holder(server_port: int, client_port: int, candidates: set[int]) -> int:
    """The process among `candidates` holding the server side of the loopback connection from `client_port`."""
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if local == server_port and remote == client_port:
            inode = fields[9]
    assert inode, "no server-side socket for the connection"
    for pid in candidates:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


def _ask(url: str, workers: set[int], path: str = "/v1/chat/completions") -> tuple[int, dict[str, Any], int, str]:
    """One request on a new connection (a chat completion, or a GET of `path`): (status, JSON body, the
    worker that answered, its request-id prefix)."""
    parts = urlsplit(url)
    port = parts.port or 0
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
    messages = [{"role": "user", "content": f"Repeat after me: {WORDS}"}]
    with closing(http.client.HTTPConnection(parts.hostname, port, timeout=10)) as connection:
        if path == "/v1/chat/completions":
            connection.request("POST", path, json.dumps({"model": MODEL, "messages": messages}), headers)
        else:
            connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        pid = _holder(port, connection.sock.getsockname()[1], workers)
    return response.status, body, pid, response.headers["x-request-id"][:20]


def _served_by_each(
    url: str, workers: set[int], path: str = "/v1/chat/completions", within: float = 20
) -> dict[int, list[str]]:
    """Requests on new connections, one after the other, until every worker has answered one (a worker
    still starting answers none): {worker pid: the request-id prefix of each answer it gave}."""
    served: dict[int, list[str]] = {}
    deadline = time.monotonic() + within
    while set(served) != workers:
        assert time.monotonic() < deadline, f"only {sorted(served)} of {sorted(workers)} answered"
        status, body, pid, prefix = _ask(url, workers, path)
        assert status == 200
        if path == "/v1/chat/completions":
            assert body["choices"][0]["message"]["content"] == WORDS
        served.setdefault(pid, []).append(prefix)
    return served


@pytest.fixture
def two_workers(upstream: Emulator) -> Iterator[tuple[str, subprocess.Popen[bytes], Path, set[int]]]:
    env = managed_env(upstream.api_base, WORKERS="2", SHUTDOWN_TIMEOUT="20")
    with gateway_process(env) as (url, process, log):
        yield url, process, log, _wait_for_workers(process.pid, 2)


def test_workers_2_starts_two_processes_that_both_answer(
    two_workers: tuple[str, subprocess.Popen[bytes], Path, set[int]],
) -> None:
    url, process, log, workers = two_workers
    served = _served_by_each(url, workers)
    assert len(workers) == 2 and process.pid not in workers
    prefixes = [set(served[pid]) for pid in workers]
    assert all(len(found) == 1 for found in prefixes)  # one request-id prefix per worker process
    assert prefixes[0] != prefixes[1]
    text = log.read_text()
    assert text.count(NO_REDIS_WARNING) == 1  # said once, by the parent, not once per worker


async def _stream(client: openai.AsyncOpenAI, opened: asyncio.Queue[str]) -> list[str]:
    """One streamed answer's data lines (raw, so [DONE] is seen); `opened` hears its request-id prefix."""
    lines: list[str] = []
    async with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=[{"role": "user", "content": f"Repeat after me: {WORDS}"}], stream=True
    ) as response:
        async for line in response.iter_lines():
            if line.startswith("data: "):
                if not lines:
                    opened.put_nowait(response.headers["x-request-id"][:20])
                lines.append(line.removeprefix("data: "))
    return lines


async def _streams_through_sigterm(url: str, parent: int, prefixes: set[str]) -> list[list[str]]:
    """Streams opened one by one until every worker (known by its request-id prefix) has one open; then
    SIGTERM to the parent; each stream as its client received it."""
    opened: asyncio.Queue[str] = asyncio.Queue()
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0, timeout=30) as client:
        tasks, streaming = [], set()
        while streaming != prefixes:
            assert len(tasks) < 40, f"40 streams, all on {streaming}"
            tasks.append(asyncio.create_task(_stream(client, opened)))
            streaming.add(await asyncio.wait_for(opened.get(), 10))
        os.kill(parent, signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert not all(task.done() for task in tasks), "the streams were over before the test could look"
        return list(await asyncio.gather(*tasks))


def test_sigterm_to_the_parent_lets_every_worker_finish_its_stream_and_exits_0(
    two_workers: tuple[str, subprocess.Popen[bytes], Path, set[int]], upstream: Emulator
) -> None:
    url, process, log, workers = two_workers
    prefixes = {prefix for found in _served_by_each(url, workers).values() for prefix in found}
    upstream.fault(chunk_delay_ms=100, times=40)  # 30 words at 100 ms: each stream takes about 3 s
    signalled = time.monotonic()
    results = asyncio.run(_streams_through_sigterm(url, process.pid, prefixes))
    exit_code = process.wait(20)
    stopped_in = time.monotonic() - signalled
    for lines in results:
        assert lines[-1] == "[DONE]"
        chunks = [json.loads(line) for line in lines[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == WORDS
    assert exit_code == 0 and stopped_in < 15
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # every worker stopped with it
    assert "timeout graceful shutdown exceeded" not in log.read_text()


def test_demo_mode_with_workers_2_shares_one_emulator() -> None:
    with gateway_process({"WORKERS": "2"}) as (url, process, log):
        workers = _wait_for_workers(process.pid, 2)
        served = _served_by_each(url, workers)
    assert set(served) == workers
    text = log.read_text()
    assert text.count("DEMO MODE: no CF_ACCOUNT_ID") == 1  # one emulator, started by the parent
    called = re.findall(r"emulator at (http://[^/]+)/client/v4", text)  # each worker's demo line
    assert len(called) == 2 and len(set(called)) == 1  # both call the same one


def test_workers_2_on_redis_share_the_key_rate_limit(upstream: Emulator) -> None:
    """Counted per process, the first 429 would come only after RPM answers from one worker plus whatever
    the other gave; shared in Redis, it comes after exactly RPM answers from the two together."""
    rpm = 20
    redis = RedisServer()
    redis.start()
    try:
        # A generous Redis timeout: on a busy test machine a slow reply must not fall back to per-process state.
        env = managed_env(
            upstream.api_base, WORKERS="2", REDIS_URL=redis.url, REDIS_TIMEOUT_SECONDS="2", GATEWAY_KEY_RPM=str(rpm)
        )
        with gateway_process(env) as (url, process, log):
            workers = _wait_for_workers(process.pid, 2)
            _served_by_each(url, workers, "/health")  # both workers are up (/health is not rate limited)
            if time.time() % 60 > 45:  # a minute boundary mid-count would let the earlier window's hits fade
                time.sleep(60.5 - time.time() % 60)
            answered_by: list[int] = []
            for _ in range(rpm + 1):
                status, body, pid, _ = _ask(url, workers)
                if status != 200:
                    break
                answered_by.append(pid)
    finally:
        redis.stop()
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
    assert len(answered_by) == rpm and set(answered_by) == workers
    assert NO_REDIS_WARNING not in log.read_text()


def test_a_worker_that_cannot_start_stops_the_parent_with_status_3(upstream: Emulator, tmp_path: Path) -> None:
    """Not a parent left running with no workers: the container exits and its orchestrator says why."""
    env = clean_environ() | managed_env(upstream.api_base, WORKERS="2", ACCOUNT_KEY_PINS='{"k": "not-in-the-pool"}')
    args = [str(BIN / "workers-ai-gateway"), "serve", "--port", str(free_port())]
    finished = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 3
    assert "ACCOUNT_KEY_PINS names 1 account id(s) that are not in the pool" in finished.stderr
    assert "failed to start, stopping the parent process" in finished.stderr

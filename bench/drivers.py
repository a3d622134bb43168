"""Closed-loop HTTP load: `wrk` with a generated Lua POST script, or a built-in asyncio driver.

Both drivers send one fixed POST over `connections` keep-alive connections for `duration` seconds and
return the same `LoadResult`. wrk (C, LuaJIT) costs the driver core least; the fallback is a raw
asyncio protocol (no HTTP library) so it stays cheap enough not to be the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import orjson

from bench.stats import percentile

_WRK_MARKER = "WRK_JSON "
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)")


@dataclass(frozen=True)
class Request:
    """One POST, sent as-is to `http://127.0.0.1:{port}{path}`."""

    port: int
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        lines = [f"POST {self.path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class LoadResult:
    """Closed-loop load for a fixed time: completed requests, errors and latency in milliseconds."""

    requests: int
    errors: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    driver: str

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else math.nan


# --- wrk -----------------------------------------------------------------------------------------


def wrk_path() -> str | None:
    return shutil.which("wrk")


def install_wrk() -> str | None:
    """`apt-get install wrk` when we are root and apt exists; None when that is not possible."""
    if wrk_path() is not None:
        return wrk_path()
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"]):
        try:
            subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if wrk_path() is not None:
            return wrk_path()
    # The first install may have failed for stale package lists; retry once after the update.
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, timeout=120)
    return wrk_path()


def lua_script(request: Request) -> str:
    """The wrk script: a fixed POST, and a `done` hook that prints the summary as one JSON line."""
    body = request.body.decode()
    if "]==]" in body:
        raise ValueError("request body cannot be embedded in a Lua long string")
    headers = "\n".join(f'wrk.headers["{name}"] = "{value}"' for name, value in request.headers)
    return f"""wrk.method = "POST"
wrk.path = "{request.path}"
wrk.body = [==[{body}]==]
{headers}

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{_WRK_MARKER}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%.1f,"p99_us":%.1f,"mean_us":%.1f,"max_us":%.1f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
"""


def parse_wrk_output(stdout: str) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith(_WRK_MARKER):
            data = orjson.loads(line[len(_WRK_MARKER) :])
            errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
            return LoadResult(
                requests=data["requests"],
                errors=errors,
                duration_s=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                mean_ms=data["mean_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                driver="wrk",
            )
    raise RuntimeError(f"wrk printed no summary:\n{stdout[-2000:]}")


async def run_wrk(
    wrk: str, request: Request, *, connections: int, duration: float, cpu_prefix: list[str]
) -> LoadResult:
    seconds = max(1, round(duration))  # wrk takes whole seconds
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp, "post.lua")
        script.write_text(lua_script(request))
        argv = [*cpu_prefix, wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        argv += ["-s", str(script), f"http://127.0.0.1:{request.port}/"]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
        try:
            stdout, _ = await asyncio.wait_for(proc.communicate(), timeout=seconds + 30)
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
    return parse_wrk_output(stdout.decode(errors="replace"))


# --- built-in asyncio driver ---------------------------------------------------------------------


class ResponseParser:
    """Incremental HTTP/1.1 response framing (Content-Length or chunked, no trailers).

    `feed` returns the status codes of the responses that the new bytes completed; `on_body`, if given,
    gets each piece of body as it completes (a whole chunk of a chunked body).
    """

    def __init__(self, on_body: Callable[[bytes], None] | None = None) -> None:
        self._on_body = on_body
        self._buf = bytearray()
        self._status: int | None = None
        self._remaining: int | None = None  # None while chunked

    def feed(self, data: bytes) -> list[int]:
        self._buf += data
        completed: list[int] = []
        while True:
            if self._status is None and not self._read_head():
                return completed
            finished = self._read_chunks() if self._remaining is None else self._read_fixed()
            if not finished:
                return completed
            assert self._status is not None
            completed.append(self._status)
            self._status = None

    def _read_head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buf[: end + 2]).lower()
        del self._buf[: end + 4]
        self._status = int(head[9:12])
        match = _CONTENT_LENGTH.search(head)
        chunked = b"\r\ntransfer-encoding: chunked" in head
        self._remaining = None if chunked else int(match.group(1)) if match else 0
        return True

    def _read_fixed(self) -> bool:
        assert self._remaining is not None
        if len(self._buf) < self._remaining:
            return False
        if self._on_body is not None and self._remaining:
            self._on_body(bytes(self._buf[: self._remaining]))
        del self._buf[: self._remaining]
        return True

    def _read_chunks(self) -> bool:
        buf = self._buf
        while True:
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(bytes(buf[:line_end]).split(b";")[0], 16)
            frame = line_end + 2 + size + 2
            if len(buf) < frame:
                return False
            if self._on_body is not None and size:
                self._on_body(bytes(buf[line_end + 2 : line_end + 2 + size]))
            del buf[:frame]
            if size == 0:
                return True


class _ClosedLoop(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the last one finished."""

    def __init__(self, payload: bytes, stop_at: float, latencies: list[int], done: asyncio.Future[int]) -> None:
        self.payload = payload
        self.stop_at = stop_at
        self.latencies = latencies
        self.done = done
        self.errors = 0
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check here.
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter_ns()
        self.transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        for status in self.parser.feed(data):
            now = time.perf_counter_ns()
            if status >= 400:
                self.errors += 1
            self.latencies.append(now - self.sent_at)
            if time.perf_counter() < self.stop_at:
                self._send()
            else:
                self._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.errors += 1
            self.done.set_result(self.errors)

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(self.errors)
        if self.transport is not None:
            self.transport.close()


async def run_asyncio(request: Request, *, connections: int, duration: float) -> LoadResult:
    loop = asyncio.get_running_loop()
    payload = request.encode()
    latencies: list[int] = []
    started = time.perf_counter()
    stop_at = started + duration
    futures: list[asyncio.Future[int]] = []
    transports: list[asyncio.BaseTransport] = []
    try:
        for _ in range(connections):
            done: asyncio.Future[int] = loop.create_future()
            factory = functools.partial(_ClosedLoop, payload, stop_at, latencies, done)
            transport, _protocol = await loop.create_connection(factory, "127.0.0.1", request.port)
            futures.append(done)
            transports.append(transport)
        errors = sum(await asyncio.wait_for(asyncio.gather(*futures), timeout=duration + 30))
    finally:
        for transport in transports:
            transport.close()
    elapsed = time.perf_counter() - started
    ms = [v / 1e6 for v in latencies]
    return LoadResult(
        requests=len(ms),
        errors=errors,
        duration_s=elapsed,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        mean_ms=sum(ms) / len(ms) if ms else math.nan,
        max_ms=max(ms, default=math.nan),
        driver="asyncio",
    )


@dataclass(frozen=True)
class Driver:
    """Picks wrk when present, else the asyncio driver; pins wrk to the driver core."""

    wrk: str | None
    cpu_prefix: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "asyncio"

    async def run(self, request: Request, *, connections: int, duration: float) -> LoadResult:
        if self.wrk is not None:
            return await run_wrk(
                self.wrk,
                request,
                connections=connections,
                duration=duration,
                cpu_prefix=list(self.cpu_prefix),
            )
        return await run_asyncio(request, connections=connections, duration=duration)

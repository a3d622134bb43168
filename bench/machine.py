"""What the figures were measured on: CPU, cores, memory, Python and the versions that matter, and how
fast the gateway's core ran a fixed workload before and after (a shared VM's speed drifts by tens of
percent between runs minutes apart; this number says how fast the machine was while it was measured)."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "aiohttp",
    "orjson",
    "pydantic",
    "anyio",
)


def describe(wrk: str | None) -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "interpreter": interpreter(),
        "packages": {name: _version(name) for name in PACKAGES},
        "wrk": _wrk_version(wrk),
        "git_commit": _git_commit(),
    }


def interpreter(maps: Path = Path("/proc/self/maps")) -> dict[str, Any]:
    """Which CPython build runs the bench (and, started from the same venv, the gateway). The build counts:
    pyenv's default (no PGO or LTO, libpython shared) cost the gateway ~20% more CPU at concurrency 1 than
    the PGO+LTO builds of Debian and of the Docker image (bench/README.md, "Which Python").

    `libpython` is read from what this process has mapped, not from sysconfig: Debian's sysconfig describes
    its shared-library build, while /usr/bin/python3 is a separate static one. `configure` lists the
    optimization flags the build states (Debian's states none, though it is built with both)."""
    config = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    libpython: str | None = None  # not on Linux
    with contextlib.suppress(OSError):
        libpython = "shared" if "/libpython3" in maps.read_text() else "static"
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "executable": os.path.realpath(sys.executable),
        "libpython": libpython,
        "configure": [flag for flag in ("--enable-optimizations", "--with-lto") if flag in config],
    }


def summary(described: dict[str, Any]) -> str:
    """One line for the results table: `CPython 3.11.2 (/usr/bin/python3.11, libpython static)`."""
    build = described["interpreter"]
    details = [build["executable"]]
    if build["libpython"]:
        details.append(f"libpython {build['libpython']}")
    details.extend(build["configure"])
    return f"{build['implementation']} {build['version']} ({', '.join(details)})"


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _memory_gb() -> float | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _wrk_version(wrk: str | None) -> str | None:
    if wrk is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=5, check=False)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    return None


def _git_commit() -> str | None:
    """Read-only: the commit the gateway was measured at, if the tree has one."""
    root = Path(__file__).resolve().parent.parent
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if out.returncode == 0:
            return out.stdout.strip()
    return None


def reference_work(calls: int = 400) -> float:
    """Median microseconds of one call of a fixed workload in the gateway's mix (small dicts, strings,
    orjson), independent of the gateway's code so that it measures only the machine."""

    def unit() -> int:
        total = 0
        for i in range(100):
            record = {"id": i, "text": f"token {i}", "items": [i, i + 1, i + 2]}
            total += len(orjson.dumps(record)) + len(orjson.loads(orjson.dumps(record))["text"]) + sum(record["items"])
        return total

    times = []
    for _ in range(calls):
        started = time.perf_counter()
        unit()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def speed_probe(prefix: list[str]) -> float | None:
    """`reference_work` in a child process run with `prefix` (taskset to the gateway's core)."""
    code = "from bench.machine import reference_work; print(reference_work())"
    root = Path(__file__).resolve().parent.parent
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
        out = subprocess.run(
            [*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root, check=True
        )
        return float(out.stdout)
    return None

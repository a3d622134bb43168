"""Child processes of the benchmark: start pinned, wait until healthy, always stop; /proc readers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = 1024


@dataclass
class Service:
    """One started server process and where it listens."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Pinning:
    """Which core runs what. Gateway alone on one core; upstream and load drivers on the other."""

    gateway_cpu: int | None
    driver_cpu: int | None
    taskset: str | None = field(default_factory=lambda: shutil.which("taskset"))

    @classmethod
    def detect(cls) -> Pinning:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) >= 2:
            return cls(gateway_cpu=cores[1], driver_cpu=cores[0])
        return cls(gateway_cpu=None, driver_cpu=None)

    @property
    def enabled(self) -> bool:
        return self.gateway_cpu is not None

    def prefix(self, cpu: int | None) -> list[str]:
        """`taskset -c N` when available; the caller falls back to sched_setaffinity otherwise."""
        if cpu is None or self.taskset is None:
            return []
        return [self.taskset, "-c", str(cpu)]

    def pin_self(self) -> None:
        """The benchmark process (stream client, fallback driver) shares the upstream's core."""
        if self.driver_cpu is not None:
            os.sched_setaffinity(0, {self.driver_cpu})


class Processes:
    """Owns every child process; `stop_all` kills whole process groups and is safe to call twice."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.services: list[Service] = []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        port: int,
        env: dict[str, str],
        cwd: Path,
        pinning: Pinning,
        cpu: int | None,
    ) -> Service:
        """Start `argv` in its own process group, pinned to `cpu` (taskset, else sched_setaffinity)."""
        prefix = pinning.prefix(cpu)
        preexec = functools.partial(os.sched_setaffinity, 0, {cpu}) if cpu is not None and not prefix else None
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [*prefix, *argv],
                preexec_fn=preexec,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        service = Service(name, popen, port, log_path)
        self.services.append(service)
        return service

    def stop_all(self) -> None:
        for service in reversed(self.services):
            stop_process_group(service.popen)
        self.services.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def stop_process_group(popen: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM the child's group, then SIGKILL whatever is left after `grace` seconds."""
    if popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signal.SIGTERM)
    try:
        popen.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=grace)


async def wait_healthy(service: Service, path: str, timeout: float = 30.0) -> None:
    """Poll `path` until it answers 200; fail fast with the log tail if the process died."""
    deadline = time.monotonic() + timeout
    url = service.base_url + path
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if service.popen.poll() is not None:
                raise RuntimeError(f"{service.name} exited with {service.popen.returncode}:\n{service.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{service.name} not healthy at {url} after {timeout:.0f}s:\n{service.log_tail()}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_open_file_limit(wanted: int = 65536) -> int:
    """1,000 open streams need ~2,000 sockets in the gateway; children inherit this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (the gateway CLI may run its server in a child)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5), counted from 1 with pid and comm as fields 1 and 2.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    return _tree_total(pid, cpu_seconds)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * PAGE_KB
    return 0


def tree_rss_bytes(pid: int) -> int:
    return int(_tree_total(pid, rss_bytes))


def _tree_total(pid: int, measure: Callable[[int], float]) -> float:
    """`measure` summed over `pid` and its descendants (a member that exits meanwhile counts 0)."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += measure(member)
    return total


def cpu_times(stat: Path = Path("/proc/stat")) -> dict[str, list[int]]:
    """The cpu lines of /proc/stat, "cpu" (all cores) and "cpuN": clock ticks by state (user, nice,
    system, idle, iowait, irq, softirq, steal, ...)."""
    times: dict[str, list[int]] = {}
    for line in stat.read_text().splitlines():
        if line.startswith("cpu"):
            name, *values = line.split()
            times[name] = [int(v) for v in values]
    return times


def core_jiffies(cpu: int) -> tuple[int, int]:
    """(busy, total) jiffies of one core from /proc/stat, for utilisation over an interval."""
    values = cpu_times().get(f"cpu{cpu}")
    if values is None:
        return 0, 0
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds a process tree used over one measured interval."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._start = tree_cpu_seconds(pid)

    def stop(self) -> float:
        return tree_cpu_seconds(self.pid) - self._start


class CoreMeter:
    """How busy one core was over one measured interval (0..1), from /proc/stat."""

    def __init__(self, cpu: int) -> None:
        self.cpu = cpu
        self._start = core_jiffies(cpu)

    def stop(self) -> float:
        busy, total = core_jiffies(self.cpu)
        span = total - self._start[1]
        return (busy - self._start[0]) / span if span else float("nan")


def cpu_steal_seconds(stat: Path = Path("/proc/stat")) -> dict[int, float]:
    """Per core, the time the hypervisor ran something else while the core had work to do (the steal
    column of /proc/stat). Always 0 on bare metal."""
    return {
        int(name[3:]): values[7] / CLOCK_TICKS
        for name, values in cpu_times(stat).items()
        if name[3:].isdigit() and len(values) > 7
    }


@dataclass(frozen=True)
class Stolen:
    """What the hypervisor took from the worst of the metered cores over one interval."""

    seconds: float
    wall_s: float
    core: int | None

    @property
    def pct(self) -> float:
        return self.seconds * 100 / self.wall_s if self.wall_s > 0 else 0.0

    def exceeds(self, pct: float) -> bool:
        """More than `pct` % of the interval, and more than one clock tick (the counter's resolution)."""
        return self.seconds > max(self.wall_s * pct / 100, 1.5 / CLOCK_TICKS)


class StealMeter:
    """Steal time on some cores (None: all of them) over one measured interval."""

    def __init__(self, cores: Collection[int] | None, stat: Path = Path("/proc/stat")) -> None:
        self.cores = cores
        self.stat = stat
        self._started = time.monotonic()
        self._before = cpu_steal_seconds(stat)

    def stop(self) -> Stolen:
        wall = time.monotonic() - self._started
        after = cpu_steal_seconds(self.stat)
        cores = after.keys() if self.cores is None else self.cores
        taken = [(after.get(core, 0.0) - self._before.get(core, 0.0), core) for core in cores]
        seconds, core = max(taken, default=(0.0, None))
        return Stolen(seconds, wall, core)


def box_cpu_seconds() -> float:
    """User + system CPU seconds of every core since boot (softirq and iowait left out)."""
    user, nice, system = cpu_times().get("cpu", [0, 0, 0])[:3]
    return (user + nice + system) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """This process plus its finished children (each wrk run)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class NoiseMeter:
    """CPU used on the box by processes that are not part of the benchmark, over one interval.

    The machine may be shared; a busy neighbour shows up here instead of silently in the figures.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._started = time.monotonic()
        self._box = box_cpu_seconds()
        self._ours = self._ours_now()

    def _ours_now(self) -> float:
        return own_cpu_seconds() + sum(tree_cpu_seconds(pid) for pid in self.pids)

    def stop(self) -> float:
        """Foreign CPU as a percentage of one core (0 on a quiet machine; a few % is accounting noise)."""
        wall = time.monotonic() - self._started
        foreign = (box_cpu_seconds() - self._box) - (self._ours_now() - self._ours)
        return max(foreign, 0.0) * 100 / wall if wall > 0 else float("nan")


class RssSampler:
    """Peak resident memory of a process tree, sampled every `interval` seconds while in the block."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> RssSampler:
        self.peak = tree_rss_bytes(self.pid)
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.peak = max(self.peak, tree_rss_bytes(self.pid))

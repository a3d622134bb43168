"""Running a coding agent as a user would, headless, against the gateway, and proving it went nowhere else.

Each agent runs with a throwaway HOME (and TMPDIR) under the test's tmp_path, an environment holding only what
its recipe sets, and, where strace exists, under `strace -f -e trace=connect,sendto,...`: every address it
connects or sends a datagram to is listed, and anything but loopback (or a DNS lookup, which means it meant to
go out) fails the test.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import Emulator
from tests.tools import NPM_BIN, require

ROOT = Path(__file__).resolve().parents[2]
STRACE = shutil.which("strace")  # checked by require("strace") in every agent test
TIMEOUT = 240  # seconds for one whole agent session: a loaded 2-core machine starts node slowly
_SYSCALL = re.compile(r"^\d+\s+(connect|sendto|sendmsg|sendmmsg)\(")
_ADDRESS = re.compile(r"\{sa_family=(AF_\w+)([^}]*)\}")
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')


def binary(name: str) -> Path:
    """An installed agent's executable (a key of tests.tools.TOOLS), and strace to watch it; when either is
    missing, a skip (a failure in CI) that says how to install it."""
    require("strace")
    return Path(require(name))


def require_strace() -> None:
    require("strace")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    connects: list[str]

    def explain(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}"


def home_env(home: Path, **extra: str) -> dict[str, str]:
    """A bare environment: PATH for node and the shell tools, a throwaway HOME, no proxy, nothing else."""
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{NPM_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        **extra,
    }


def run(argv: list[str], env: dict[str, str], cwd: Path, *, stdin: str = "") -> Run:
    """Run an agent to its end; under strace when there is one, so `connects` lists every socket it opened."""
    trace = cwd.parent / f"{cwd.name}.strace"
    traced = [STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(trace)]
    command = [*traced, *argv] if STRACE else argv  # no strace: `binary` skipped every agent already
    done = subprocess.run(command, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)
    connects = outside_connects(trace.read_text()) if STRACE else ["strace missing: nothing proves loopback only"]
    return Run(done.returncode, done.stdout, done.stderr, connects)


def outside_connects(trace: str) -> list[str]:
    """The strace lines of connections (or datagrams sent) to anything but loopback or a local socket, and of
    DNS lookups (a resolver on loopback still means the agent meant to go out)."""
    bad = []
    for line in trace.splitlines():
        found = _ADDRESS.search(line) if _SYSCALL.match(line) else None
        if found is None:
            continue
        family, rest = found.groups()
        if family in ("AF_UNIX", "AF_LOCAL", "AF_NETLINK"):  # this machine's own sockets, and its kernel
            continue
        address = _INET.search(rest) or _INET6.search(rest)
        if address is None or family not in ("AF_INET", "AF_INET6"):
            bad.append(line)
            continue
        port, host = int(address.group(1)), address.group(2)
        ip = ipaddress.ip_address(host)
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if port == 53 or not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
            bad.append(line)
    return bad


def tool_sessions(upstream: Emulator, model: str) -> list[dict[str, Any]]:
    """The bodies of the upstream calls to `model` that offered tools (an agent's main loop), oldest first."""
    runs = [r["body_json"] for r in upstream.requests() if r["path"].endswith(f"/run/{model}")]
    return [body for body in runs if isinstance(body, dict) and body.get("tools")]


def tool_traffic(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The tool calls the model made (names) and the results sent back (texts), in one upstream body."""
    calls = [c["function"]["name"] for m in body["messages"] for c in m.get("tool_calls") or ()]
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    return calls, results

"""The programs outside Python that the tests run, where each one comes from, and what a run does when one is
missing.

`make test` first runs `python -m tests.tools install`: as root with apt-get, it installs whatever in TOOLS is
missing (one `apt-get update`, then one `apt-get install`); with all present it does nothing. Where it cannot
install (not root, no apt-get), a test that needs a missing tool is skipped (`require` / the `needs_tool`
marker), and the run ends with one summary naming each missing tool and the command that brings it. With
WAG_REQUIRE_TOOLS=1 (`.ci/run` sets it) or CI=true, a missing tool fails the test instead of skipping it.

The coding agents (tests/agents) are one more source: tests/agents/install.sh, from npm and PyPI into
AGENTS_DIR, a cache outside the clone. To add a tool: one row in TOOLS. To add a kind of source: a Source
subclass and an entry in SOURCES; `install`, `require` and the summary need no change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS_DIR = ROOT / ".tools"  # tools installed per project, not system-wide (git-ignored)
# The coding agents (tests/agents): 1.9 GB, kept outside the clone so every clone on a machine shares them.
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
AGENTS_DIR = Path(os.environ.get("AGENTS_DIR") or _CACHE / "workers-ai-gateway" / "agents")
NPM_BIN = AGENTS_DIR / "npm" / "node_modules" / ".bin"
AGENTS_INSTALL = ROOT / "tests" / "agents" / "install.sh"
APT_GET = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]  # another apt-get may hold the lock for a while


@dataclass(frozen=True)
class Tool:
    name: str  # the command the tests run
    source: str  # a key of SOURCES
    package: str  # what that source installs to bring the command
    used_by: str
    elsewhere: tuple[str, ...] = ()  # where else to look: /usr/sbin is not on a non-root PATH


TOOLS = {
    tool.name: tool
    for tool in (
        Tool("redis-server", "apt", "redis-server", "shared state: tests/redis_server.py"),
        Tool("tinyproxy", "apt", "tinyproxy", "HTTP CONNECT proxy: test_proxies, test_image_url_proxy"),
        Tool("microsocks", "apt", "microsocks", "SOCKS5 proxy: test_proxies"),
        Tool("nginx", "apt", "nginx-light", "in front of two gateways: test_compose", ("/usr/sbin/nginx",)),
        Tool("chromium", "apt", "chromium", "the status page drawn: test_status"),
        Tool("curl", "apt", "curl", "the README's upload recipe: test_audio"),
        Tool("openssl", "apt", "openssl", "a self-signed certificate: unit/test_connection_pool"),
        Tool("strace", "apt", "strace", "proves each coding agent stays on loopback: tests/agents"),
        Tool("claude", "agents", "claude", "Claude Code: tests/agents", (str(NPM_BIN / "claude"),)),
        Tool("codex", "agents", "codex", "Codex CLI: tests/agents", (str(NPM_BIN / "codex"),)),
        Tool("opencode", "agents", "opencode", "opencode: tests/agents", (str(NPM_BIN / "opencode"),)),
        Tool("qwen", "agents", "qwen", "Qwen Code: tests/agents", (str(NPM_BIN / "qwen"),)),
        Tool("aider", "agents", "aider", "aider: tests/agents", (str(AGENTS_DIR / "aider" / "bin" / "aider"),)),
    )
}


class Source:
    """Where tools come from: what a person runs to get them, and whether this run can get them itself."""

    always = False  # True: asked to install its tools on every run, present or not (it knows what is current)

    def command(self, packages: list[str]) -> str:
        raise NotImplementedError

    def cannot_install(self) -> str | None:
        """Why this run cannot install (a short reason), or None when it can."""
        raise NotImplementedError

    def install(self, packages: list[str]) -> None:
        raise NotImplementedError


class Apt(Source):
    def command(self, packages: list[str]) -> str:
        return "apt-get install -y --no-install-recommends " + " ".join(packages)

    def cannot_install(self) -> str | None:
        if shutil.which("apt-get") is None:
            return "no apt-get on this machine"
        if os.geteuid() != 0:
            return "not root"
        return None

    def install(self, packages: list[str]) -> None:
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*APT_GET, "update", "-q"], check=True, env=env)
        subprocess.run([*APT_GET, "install", "-y", "-q", "--no-install-recommends", *packages], check=True, env=env)


class Agents(Source):
    """The coding agents, pinned in tests/agents/install.sh: npm packages and aider (PyPI, its own venv),
    installed under AGENTS_DIR. The script keeps a stamp per agent, so it runs every time (a few
    milliseconds when all are current) and a version bump there reinstalls that agent."""

    always = True

    def command(self, packages: list[str]) -> str:
        return f"{AGENTS_INSTALL.relative_to(ROOT)} {' '.join(packages)}"

    def cannot_install(self) -> str | None:
        missing = [name for name in ("npm", "python3") if shutil.which(name) is None]
        return f"no {' or '.join(missing)} on this machine" if missing else None

    def install(self, packages: list[str]) -> None:
        subprocess.run(["bash", str(AGENTS_INSTALL), *packages], check=True)


SOURCES: dict[str, Source] = {"apt": Apt(), "agents": Agents()}


def find(tool: Tool) -> str | None:
    """The tool's path, or None: on PATH, in TOOLS_DIR/bin, or where else it is known to live."""
    found = shutil.which(tool.name) or shutil.which(tool.name, path=str(TOOLS_DIR / "bin"))
    return found or next((path for path in tool.elsewhere if os.access(path, os.X_OK)), None)


def missing(tools: Iterable[Tool] = TOOLS.values()) -> list[Tool]:
    return [tool for tool in tools if find(tool) is None]


def how_to_get(tools: list[Tool]) -> list[str]:
    """One command per source that brings `tools`."""
    sources = sorted({tool.source for tool in tools})
    return [SOURCES[s].command([tool.package for tool in tools if tool.source == s]) for s in sources]


def install(tools: Iterable[Tool] = TOOLS.values()) -> None:
    """Installs the missing tools a source can install here; says which it cannot, and how to get them."""
    # Missing tools, and every tool of a source that checks its own (it knows when one is out of date).
    asked = [tool for tool in tools if SOURCES[tool.source].always or find(tool) is None]
    for name in sorted({tool.source for tool in asked}):
        wanted = [tool for tool in asked if tool.source == name]
        source, packages = SOURCES[name], [tool.package for tool in wanted]
        reason = source.cannot_install()
        if reason is None:
            if any(find(tool) is None for tool in wanted):  # an `always` source's check says nothing
                print(f"tests.tools: installing {' '.join(packages)} for the tests", flush=True)
            try:
                source.install(packages)
                continue
            except (OSError, subprocess.CalledProcessError) as error:
                reason = f"the install failed ({error})"
        names = ", ".join(tool.name for tool in wanted)
        print(f"tests.tools: {names} missing ({reason}); the tests that need them will be skipped.")
        print(f"tests.tools: to get them: {source.command(packages)}", flush=True)


def strict() -> bool:
    """CI must not pass with tests skipped for a missing tool."""
    return os.environ.get("WAG_REQUIRE_TOOLS") == "1" or os.environ.get("CI") == "true"


MISSED: dict[str, Tool] = {}  # the tools a test asked for and did not find, for the closing summary


def require(name: str) -> str:
    """The path of tool `name`; when it is missing, skips the calling test (fails it when `strict()`)."""
    tool = TOOLS[name]
    path = find(tool)
    if path is not None:
        return path
    MISSED[name] = tool
    message = f"needs {name}, which is not installed ({how_to_get([tool])[0]})"
    if strict():
        pytest.fail(message + "; WAG_REQUIRE_TOOLS=1 or CI=true: a missing tool fails", pytrace=False)
    pytest.skip(message)
    raise AssertionError("unreachable")  # pytest.skip raises


def summary() -> list[str]:
    """The closing lines of a run in which tests missed tools: each tool, and the commands that bring them."""
    if not MISSED:
        return []
    tools = sorted(MISSED.values(), key=lambda tool: tool.name)
    verdict = "failed" if strict() else "skipped"
    lines = [f"Tests {verdict} because these programs are not installed:"]
    lines += [f"  {tool.name:<14} (package {tool.package}) {tool.used_by}" for tool in tools]
    lines += ["Install them with:", *(f"  {command}" for command in how_to_get(tools))]
    lines.append("or run `make test` as root on Debian/Ubuntu, which installs them itself.")
    return lines


# The pytest side (tests/conftest.py loads this module as a plugin).


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_tool(name): the test runs program `name`, a key of tests.tools.TOOLS")


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures start servers it would not use
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_tool"):
        require(mark.args[0])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = summary()
    if lines:
        terminalreporter.section("missing tools", sep="=", yellow=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line)


def main(argv: list[str]) -> int:
    if argv != ["install"]:
        print("usage: python -m tests.tools install", file=sys.stderr)
        return 2
    install()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""tests/tools.py: the programs the tests run are installed when missing (root with apt-get), and otherwise the
tests that need them are skipped with one closing summary, or fail when CI demands every tool. Checked with a
PATH made for each test, holding only fake programs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tools
from tests.tools import TOOLS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = """
import pytest
from tests.tools import require

@pytest.mark.needs_tool("redis-server")
def test_marked():
    pass

def test_asks_in_its_body():
    require("microsocks")

def test_needs_nothing():
    pass
"""


def fake_bin(directory: Path, *names: str, script: str = "exit 0") -> Path:
    """A PATH directory holding an executable for each of `names`, each running `script`."""
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_text(f"#!/bin/sh\n{script}\n")
        (directory / name).chmod(0o755)
    return directory


def run_sample(tmp_path: Path, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on SAMPLE in its own rootdir, with tests/tools.py as its plugin and `path` as its PATH."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "WAG_REQUIRE_TOOLS", "PYTEST_ADDOPTS")}
    environ |= {"PATH": str(path), "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} | env
    args = [sys.executable, "-m", "pytest", "-p", "tests.tools", "-p", "no:cacheprovider", "-rs", "test_sample.py"]
    return subprocess.run(args, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60)


def test_missing_tools_skip_their_tests_and_one_summary_names_them_and_the_command(tmp_path: Path) -> None:
    done = run_sample(tmp_path, fake_bin(tmp_path / "bin"))
    assert done.returncode == 0, done.stdout
    assert "1 passed, 2 skipped" in done.stdout
    summary = done.stdout.split("missing tools")[1]
    assert "redis-server" in summary and "microsocks" in summary
    assert "apt-get install -y --no-install-recommends microsocks redis-server" in summary
    assert done.stdout.count("missing tools") == 1  # one closing summary, not one per test


@pytest.mark.parametrize("strict", [{"WAG_REQUIRE_TOOLS": "1"}, {"CI": "true"}])
def test_in_ci_a_missing_tool_fails_the_test(tmp_path: Path, strict: dict[str, str]) -> None:
    done = run_sample(tmp_path, fake_bin(tmp_path / "bin"), **strict)
    assert done.returncode == 1
    assert "1 failed, 1 passed, 1 error" in done.stdout  # the marked test fails in its setup: an error
    assert "Tests failed because these programs are not installed" in done.stdout


def test_with_every_tool_present_nothing_is_skipped_or_summarised(tmp_path: Path) -> None:
    done = run_sample(tmp_path, fake_bin(tmp_path / "bin", "redis-server", "microsocks"), WAG_REQUIRE_TOOLS="1")
    assert done.returncode == 0, done.stdout
    assert "3 passed" in done.stdout and "missing tools" not in done.stdout


@pytest.fixture
def apt_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with a fake apt-get that writes each call's arguments to the returned file, and tinyproxy."""
    log = tmp_path / "apt.log"
    bin_dir = fake_bin(tmp_path / "bin", "apt-get", script=f'echo "$*" >> {log}')
    fake_bin(bin_dir, "tinyproxy")
    monkeypatch.setenv("PATH", str(bin_dir))
    return log


WANTED = [TOOLS["redis-server"], TOOLS["tinyproxy"], TOOLS["curl"]]


def test_as_root_the_missing_tools_are_installed_with_one_update_and_one_install(
    apt_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tools.os, "geteuid", lambda: 0)
    tools.install(WANTED)
    assert apt_log.read_text().splitlines() == [
        "-o DPkg::Lock::Timeout=600 update -q",
        "-o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends redis-server curl",
    ]


def test_with_everything_present_apt_get_is_not_run(apt_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tools.install([TOOLS["tinyproxy"]])
    assert not apt_log.exists() and capsys.readouterr().out == ""


def test_not_root_installs_nothing_and_says_what_to_run(
    apt_log: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools.os, "geteuid", lambda: 1000)
    tools.install(WANTED)
    out = capsys.readouterr().out
    assert not apt_log.exists()
    assert "redis-server, curl missing (not root)" in out
    assert "apt-get install -y --no-install-recommends redis-server curl" in out


def test_without_apt_get_installs_nothing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(fake_bin(tmp_path / "bin")))
    monkeypatch.setattr(tools.os, "geteuid", lambda: 0)
    tools.install(WANTED)
    assert "(no apt-get on this machine)" in capsys.readouterr().out


def test_a_failed_install_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(fake_bin(tmp_path / "bin", "apt-get", script="exit 100")))
    monkeypatch.setattr(tools.os, "geteuid", lambda: 0)
    tools.install(WANTED)
    assert "the install failed" in capsys.readouterr().out

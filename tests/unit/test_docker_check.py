"""deploy/docker_check.py (`make docker-check`): every runtime dependency without a wheel for a platform is
named, not only the first pip stops at; the platform tags are those python:3.11-slim (glibc 2.36) accepts.
pip is replaced by a fake here: the real check asks the package index, which tests never do."""

from __future__ import annotations

import subprocess

import pytest

from deploy import docker_check

PINS = ["cffi==1.17.1", "miniaudio==1.71", "opencc==1.1.9", "orjson==3.11.0"]


def test_every_package_without_a_wheel_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, ...]] = []

    def pip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        asked.append(args)
        absent = [a for a in args if a.startswith(("miniaudio==", "opencc=="))]
        stderr = f"ERROR: No matching distribution found for {absent[0]}\n" if absent else ""
        return subprocess.CompletedProcess(args, 1 if absent else 0, "", stderr)

    monkeypatch.setattr(docker_check, "pip", pip)
    assert docker_check.without_wheels(PINS, "aarch64") == ["miniaudio==1.71", "opencc==1.1.9"]
    assert len(asked) == 3 and "miniaudio==1.71" not in asked[-1] and "cffi==1.17.1" in asked[-1]
    tags = {asked[0][i + 1] for i, arg in enumerate(asked[0]) if arg == "--platform"}
    assert {"manylinux_2_36_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"} <= tags
    assert "manylinux_2_37_aarch64" not in tags  # newer than the image's glibc: would not install there
    assert "--only-binary=:all:" in asked[0] and "cp311" in asked[0]


def test_an_unexpected_pip_failure_stops_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def pip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "ERROR: network is unreachable\n")

    monkeypatch.setattr(docker_check, "pip", pip)
    with pytest.raises(SystemExit, match="network is unreachable"):
        docker_check.without_wheels(PINS, "x86_64")

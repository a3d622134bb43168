"""`make docker-check`: can the Dockerfile build for linux/amd64 and linux/arm64? No container engine is needed.

The image is CPython 3.11 on Debian bookworm (python:3.11-slim, glibc 2.36). For each platform this asks the
package index which of the runtime dependencies (resolved as `pip install .` would) publish no wheel for it,
then builds each of those from its sdist here, with a C compiler as the Dockerfile's build stage has
(build-essential). It asks the package index, as `pip install` does, so it is a make target run after
`make test` (`.ci/run`), never a test: the tests reach no outside host.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from tests.tools import SOURCES

ROOT = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip"]
GLIBC = 36  # bookworm's glibc 2.36: wheels tagged manylinux up to 2_36 install in the image
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.-]+)==")


def runtime_pins() -> list[str]:
    """The runtime dependencies as `pip install .` resolves them today: name==version, the project left out."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        pip("install", "--dry-run", "--quiet", "--ignore-installed", "--report", str(report), str(ROOT))
        installs = json.loads(report.read_text())["install"]
    pins = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs if not i.get("is_direct")]
    return sorted(pins, key=str.lower)


def without_wheels(pins: list[str], arch: str) -> list[str]:
    """The pins with no wheel for CPython 3.11 on manylinux `arch` (one pip call per pin found missing)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(17, GLIBC + 1)] + [f"manylinux2014_{arch}"]
    platform = [arg for tag in tags for arg in ("--platform", tag)]
    abi = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    left, missing = list(pins), []
    with tempfile.TemporaryDirectory() as target:
        while left:
            args = ["install", "--dry-run", "--quiet", "--ignore-installed", "--no-deps", "--only-binary=:all:"]
            done = pip(*args, *platform, *abi, "--target", target, *left, check=False)
            if done.returncode == 0:
                break
            found = MISSING.search(done.stderr)
            if found is None:
                raise SystemExit(f"pip failed for {arch}:\n{done.stderr}")
            pin = next(p for p in left if p.lower().startswith(found[1].lower() + "=="))
            missing.append(pin)
            left.remove(pin)
    return missing


def build_from_sdist(pin: str) -> float:
    """Builds `pin` from its sdist (never a wheel) as the build stage would; the seconds it took."""
    name = pin.split("==")[0]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        pip("wheel", "--quiet", "--no-deps", "--no-cache-dir", "--no-binary", name, "--wheel-dir", out, pin)
    return time.monotonic() - started


def ensure_compiler() -> None:
    """A C compiler and this Python's headers, as build-essential gives the build stage; installed with apt-get
    when missing and this is root (as `make test` installs what its tests run)."""
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    wanted = ([] if shutil.which("gcc") else ["build-essential"]) + ([] if headers.exists() else ["python3-dev"])
    if not wanted:
        return
    apt = SOURCES["apt"]
    reason = apt.cannot_install()
    if reason is not None:
        raise SystemExit(f"docker-check needs a C compiler and Python.h ({reason}): {apt.command(wanted)}")
    apt.install(wanted)


def pip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*PIP, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"pip {' '.join(args[:3])} ... failed:\n{done.stderr}")
    return done


def main() -> int:
    pins = runtime_pins()
    print(f"{len(pins)} runtime dependencies (as `pip install .` resolves them now)")
    no_wheel: dict[str, list[str]] = {}
    for docker, arch in PLATFORMS.items():
        missing = without_wheels(pins, arch)
        print(f"{docker} (manylinux {arch}, cp311): {len(pins) - len(missing)} with wheels; no wheel: {missing or '-'}")
        for pin in missing:
            no_wheel.setdefault(pin, []).append(docker)
    if no_wheel:
        ensure_compiler()
    for pin, platforms in sorted(no_wheel.items()):
        seconds = build_from_sdist(pin)
        print(f"{pin}: no wheel for {', '.join(platforms)}; built here from its sdist in {seconds:.0f} s")
    print("docker-check: every runtime dependency installs on linux/amd64 and linux/arm64 (built or wheel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

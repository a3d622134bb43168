"""The machine-speed probe the bench runs before and after its scenarios."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from bench.machine import interpreter, speed_probe, summary


def test_speed_probe_times_the_fixed_workload_in_a_child() -> None:
    speed = speed_probe([])
    assert speed is not None and 1 < speed < 100_000  # microseconds a call, on any machine that runs tests


def test_speed_probe_that_cannot_run_reports_nothing() -> None:
    assert speed_probe(["false"]) is None


def test_interpreter_reads_libpython_from_the_process_maps(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.write_text("7f00-7f01 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n")
    static = tmp_path / "static"
    static.write_text("5600-5601 r-xp 0 08:01 1 /usr/bin/python3.11\n")
    assert interpreter(shared)["libpython"] == "shared"
    assert interpreter(static)["libpython"] == "static"
    assert interpreter(tmp_path / "missing")["libpython"] is None


def test_interpreter_names_this_python() -> None:
    build = interpreter()
    assert build["version"] == platform.python_version()
    assert Path(build["executable"]).resolve() == Path(sys.executable).resolve()
    assert set(build["configure"]) <= {"--enable-optimizations", "--with-lto"}


def test_summary_is_one_line_for_the_table() -> None:
    described = {
        "interpreter": {
            "implementation": "CPython",
            "version": "3.11.2",
            "executable": "/usr/bin/python3.11",
            "libpython": "static",
            "configure": ["--with-lto"],
        }
    }
    assert summary(described) == "CPython 3.11.2 (/usr/bin/python3.11, libpython static, --with-lto)"

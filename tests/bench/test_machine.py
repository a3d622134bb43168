"""The machine-speed probe the bench runs before and after its scenarios."""

from __future__ import annotations

from bench.machine import speed_probe


def test_speed_probe_times_the_fixed_workload_in_a_child() -> None:
    speed = speed_probe([])
    assert speed is not None and 1 < speed < 100_000  # microseconds a call, on any machine that runs tests


def test_speed_probe_that_cannot_run_reports_nothing() -> None:
    assert speed_probe(["false"]) is None

"""Host steal: reading it from /proc/stat, and measuring a round again when the host took the CPU."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.context import Bench, Plan
from bench.endpoints import direct, gateway
from bench.procs import CLOCK_TICKS, Pinning, StealMeter, Stolen, cpu_steal_seconds
from bench.report import steal_figures, steal_notes, stolen_groups

# user nice system idle iowait irq softirq steal guest guest_nice
STAT = """cpu  100 0 50 900 0 0 10 {total} 0 0
cpu0 50 0 25 450 0 0 5 {cpu0} 0 0
cpu1 50 0 25 450 0 0 5 {cpu1} 0 0
intr 12345 0 0
ctxt 999
"""


def write_stat(path: Path, cpu0: int, cpu1: int) -> None:
    path.write_text(STAT.format(total=cpu0 + cpu1, cpu0=cpu0, cpu1=cpu1))


def test_reads_the_steal_column_of_each_core(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    write_stat(stat, cpu0=30, cpu1=7)
    assert cpu_steal_seconds(stat) == {0: 30 / CLOCK_TICKS, 1: 7 / CLOCK_TICKS}


def test_this_machine_has_a_steal_figure_for_every_core() -> None:
    steal = cpu_steal_seconds()
    assert steal and all(seconds >= 0 for seconds in steal.values())


def test_meter_reports_the_worst_of_the_cores_it_watches(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    write_stat(stat, cpu0=10, cpu1=10)
    both, only_core0 = StealMeter(None, stat), StealMeter([0], stat)
    write_stat(stat, cpu0=12, cpu1=40)
    stolen = both.stop()
    assert stolen.core == 1 and stolen.seconds == pytest.approx(30 / CLOCK_TICKS)
    # Core 1 sat idle for a side that only uses core 0: its steal is not counted.
    assert only_core0.stop().seconds == pytest.approx(2 / CLOCK_TICKS)


def test_a_single_clock_tick_is_never_enough() -> None:
    tick = 1 / CLOCK_TICKS
    assert not Stolen(tick, wall_s=0.1, core=1).exceeds(1.0)  # 10% of a short round, but one tick
    assert Stolen(2 * tick, wall_s=0.1, core=1).exceeds(1.0)
    assert not Stolen(3 * tick, wall_s=3.1, core=1).exceeds(1.0)  # 30 ms of 3.1 s is under 1%
    assert Stolen(4 * tick, wall_s=3.1, core=1).exceeds(1.0)


@dataclass(frozen=True)
class Timed:
    p99_ms: float


def make_bench(stat: Path, budget_s: float) -> Bench:
    plan = Plan(rerun_budget_s=budget_s)
    pinning = Pinning(gateway_cpu=1, driver_cpu=0, taskset=None)
    return Bench(plan, None, pinning, None, None, None, None, stat=stat)  # type: ignore[arg-type]


def stolen_rounds(stat: Path, steal_ticks: list[tuple[int, int]]) -> tuple[list[float], object]:
    """A measure whose n-th call sees the host take steal_ticks[n] ticks on cores 0 and 1."""
    calls: list[float] = []
    counters = [0, 0]

    async def measure() -> Timed:
        await asyncio.sleep(0.05)  # rounds of about equal length, so steal in % compares like steal in ticks
        cpu0, cpu1 = steal_ticks[len(calls)]
        counters[0] += cpu0
        counters[1] += cpu1
        write_stat(stat, counters[0], counters[1])
        calls.append(0.5 + len(calls))
        return Timed(calls[-1])

    write_stat(stat, 0, 0)
    return calls, measure


def test_a_stolen_round_is_measured_again(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    bench = make_bench(stat, budget_s=60)
    calls, measure = stolen_rounds(stat, [(0, 50), (40, 0), (0, 0)])
    kept = asyncio.run(bench.steady("chat.c1 round 0", gateway(1), measure))  # type: ignore[arg-type]
    assert kept == Timed(2.5) and len(calls) == 3
    assert [(e["kept"], e["over_limit"], e["core"]) for e in bench.record.steal] == [
        (False, True, 1),
        (False, True, 0),
        (True, False, 1),  # no steal anywhere: the worst core is the highest-numbered tie
    ]
    assert bench.record.steal[0]["result"] == {"p99_ms": 0.5}  # what the thrown-away round measured
    assert bench.rerun_spent_s > 0


def test_when_every_attempt_is_stolen_the_least_stolen_is_kept(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    bench = make_bench(stat, budget_s=60)
    calls, measure = stolen_rounds(stat, [(0, 90), (0, 10), (60, 0), (0, 0)])
    kept = asyncio.run(bench.steady("chat.c1 round 0", gateway(1), measure))  # type: ignore[arg-type]
    assert len(calls) == bench.plan.round_attempts == 3  # the fourth, clean, attempt is never made
    assert kept == Timed(1.5)  # 10 ticks: the least of 90, 10 and 60, whatever each measured
    assert [e["kept"] for e in bench.record.steal] == [False, True, False]
    assert steal_figures(bench.record.steal)["host.stolen_kept"].median == 1


def test_the_direct_side_is_judged_on_the_driver_core_only(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    bench = make_bench(stat, budget_s=60)
    calls, measure = stolen_rounds(stat, [(0, 50)])  # the gateway's core is idle while direct runs
    asyncio.run(bench.steady("chat.c1 round 0", direct(1), measure))  # type: ignore[arg-type]
    assert len(calls) == 1 and bench.record.steal[0]["kept"] and not bench.record.steal[0]["over_limit"]


def test_once_the_budget_is_spent_the_stolen_round_is_kept_and_said(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    bench = make_bench(stat, budget_s=0)
    calls, measure = stolen_rounds(stat, [(0, 50), (0, 0)])
    kept = asyncio.run(bench.steady("stream.c1 round 2", gateway(1), measure))  # type: ignore[arg-type]
    assert kept == Timed(0.5) and len(calls) == 1
    figures = steal_figures(bench.record.steal)
    assert figures["host.rounds_rerun"].median == 0 and figures["host.stolen_kept"].median == 1
    assert figures["host.steal_kept_max_pct"].median > 1
    (warning,) = steal_notes(bench.record.steal, bench.plan.max_steal_pct, bench.plan.rerun_budget_s)
    assert warning.startswith("warning: in 1 kept rounds the host took over 1% of a busy core in every attempt")
    assert "(stream.c1 round 2, gateway)" in warning
    assert stolen_groups(bench.record.steal) == {"stream.c1"}


def test_notes_count_the_rounds_measured_again() -> None:
    steal = [
        {"round": "r0", "side": "gateway", "steal_pct": 9.0, "wall_s": 3.1, "kept": False, "over_limit": True},
        {"round": "r0", "side": "gateway", "steal_pct": 0.3, "wall_s": 3.1, "kept": True, "over_limit": False},
    ]
    assert steal_notes(steal, 1.0, 90.0) == [
        "note: 1 rounds were measured again because the host took over 1% of a busy core during them"
        " (steal; 3 s of the 90 s allowed)"
    ]
    figures = steal_figures(steal)
    assert figures["host.rerun_s"].median == pytest.approx(3.1)
    assert figures["host.steal_kept_max_pct"].median == 0.3
    assert steal_figures([]) == {}
    assert stolen_groups(steal) == set()  # the stolen attempt was not kept


def test_a_round_is_metered_in_the_process_of_its_side(tmp_path: Path) -> None:
    """The floor's CPU per request is what the gateway's is gated against, so its rounds meter its process;
    direct's meter none (the fake upstream's CPU is metered apart)."""
    bench = make_bench(tmp_path / "stat", budget_s=0)
    bench.gateway, bench.floor = FakeService(101), FakeService(202)  # type: ignore[assignment]
    floor = dataclasses.replace(direct(9), name="floor")
    assert [bench.pid_of(side) for side in (gateway(8), floor, direct(7))] == [101, 202, None]
    bench.floor = None
    assert bench.pid_of(floor) is None


@dataclass(frozen=True)
class FakeService:
    pid: int

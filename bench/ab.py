"""`python -m bench.ab REF` (`make bench-ab REF=main`): this tree's gateway against REF's, in one run.

The question a change to the request path must answer is "does it cost more than the code it replaces",
and two `make bench` runs minutes apart cannot answer it on a VM whose speed moves by tens of percent from
one minute to the next (bench/README.md, "Machine speed"). So both gateways run at once, against one fake
upstream, each alone on the gateway's core in its own rounds, and every figure is measured old and new in
alternating order within each round: CPU per request (chat at c=1 and c=16, a 20-chunk stream at c=16,
a Responses answer at c=16), the c=1 added latency (each side's p50 minus direct's in the same round) and
the Responses/chat CPU ratio of each side. A figure is new/old round by round; its verdict is a sign test
over the rounds ("The A/B run" in bench/README.md).

REF's tree is exported with `git archive` (the repository is not touched) and run on this venv's
interpreter with the tree first on `sys.path`; when REF's dependencies differ from this tree's the run
says so, as the old side then runs on libraries it was not written for.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import endpoints
from bench.__main__ import ROOT, choose_driver, gateway_argv, gateway_env, run_loop, start_upstream
from bench.context import Bench, Plan, Record
from bench.endpoints import Endpoint
from bench.load import LoadRound, _load_round
from bench.procs import Pinning, Processes, Service, free_port, raise_open_file_limit, wait_healthy
from bench.responses import responses_endpoint
from bench.stats import Summary, paired_differences
from bench.stream_client import StreamClient

SIGNIFICANCE = 0.05  # two-sided sign test: with 10 rounds, 9 or 10 of them on one side (8 rounds: all 8)
# The old gateway, started from its exported tree: `-c` puts the working directory (the tree) first on
# sys.path, ahead of this venv's editable install of the new one.
OLD_GATEWAY = "import sys; from app.cli import main; sys.argv[0] = 'workers-ai-gateway'; main()"


def export_tree(ref: str, dest: Path, repo: Path = ROOT) -> str:
    """Write REF's files into `dest` (`git archive`: no worktree, no change to the repository); return its
    commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return commit


def dependency_change(old_tree: Path, new_tree: Path = ROOT) -> list[str]:
    """The runtime dependencies one tree's pyproject.toml names and the other's does not."""

    def wanted(tree: Path) -> set[str]:
        project = tomllib.loads((tree / "pyproject.toml").read_text())["project"]
        return set(project.get("dependencies", []))

    old, new = wanted(old_tree), wanted(new_tree)
    return sorted(f"-{dep}" for dep in old - new) + sorted(f"+{dep}" for dep in new - old)


def old_gateway_argv(port: int) -> list[str]:
    """The old gateway's command, run with its tree as working directory (and PYTHONPATH)."""
    return [sys.executable, "-c", OLD_GATEWAY, "serve", "--host", "127.0.0.1", "--port", str(port)]


def sign_test(ratios: Sequence[float]) -> float:
    """Two-sided p-value of the sign test that a ratio is as likely above 1 as below it (ties dropped)."""
    above = sum(r > 1 for r in ratios)
    below = sum(r < 1 for r in ratios)
    n = above + below
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(max(above, below), n + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Comparison:
    """One figure, new over old round by round, and what the rounds say about it."""

    label: str
    unit: str
    new: Summary
    old: Summary
    ratio: Summary  # new / old, per round

    @classmethod
    def of(cls, label: str, unit: str, new: Sequence[float], old: Sequence[float]) -> Comparison:
        ratios = [n / o if o else math.nan for n, o in zip(new, old, strict=True)]
        return cls(label, unit, Summary.of(new), Summary.of(old), Summary.of(ratios))

    @property
    def p_value(self) -> float:
        return sign_test([r for r in self.ratio.rounds if not math.isnan(r)])

    @property
    def verdict(self) -> str:
        """ "within noise" unless the rounds lean one way more often than chance allows."""
        if math.isnan(self.ratio.median) or self.p_value >= SIGNIFICANCE:
            return "within noise"
        return "new costs more" if self.ratio.median > 1 else "new costs less"

    def row(self) -> str:
        r = self.ratio
        return (
            f"| {self.label} | {_fmt(self.old.median)} {self.unit} | {_fmt(self.new.median)} {self.unit} "
            f"| {r.median:.3f} ({r.low:.3f}-{r.high:.3f}) | {self.p_value:.2f} | {self.verdict} |"
        )


def markdown(comparisons: list[Comparison], *, title: str, note: str) -> str:
    lines = [
        f"## {title}",
        "",
        "| figure | old | new | new / old: median (rounds low-high) | sign test p | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
        *(c.row() for c in comparisons),
        "",
        note,
    ]
    return "\n".join(lines) + "\n"


def regressed(comparisons: list[Comparison]) -> list[Comparison]:
    return [c for c in comparisons if c.verdict == "new costs more"]


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.3f}" if value < 10 else f"{value:,.0f}"


@dataclass
class Rounds:
    """What each round measured, by figure and side, in the order of the rounds."""

    values: dict[str, dict[str, list[float]]] = dataclasses.field(default_factory=dict)

    def add(self, figure: str, side: str, value: float) -> None:
        self.values.setdefault(figure, {}).setdefault(side, []).append(value)

    def of(self, figure: str, side: str) -> list[float]:
        return self.values.get(figure, {}).get(side, [])


def comparisons(rounds: Rounds) -> list[Comparison]:
    """The table's figures, from the rounds: added latency new against old, CPU per request or stream, and
    each side's Responses/chat ratio."""

    def added(side: str) -> list[float]:
        return paired_differences(rounds.of("c1.p50_ms", side), rounds.of("c1.p50_ms", "direct"))

    def responses_over_chat(side: str) -> list[float]:
        pairs = zip(rounds.of("responses.cpu_us", side), rounds.of("c16.cpu_us", side), strict=True)
        return [r / c for r, c in pairs]

    new, old = "gateway", "old"
    return [
        Comparison.of("added latency p50, c=1 (gateway minus direct)", "ms", added(new), added(old)),
        Comparison.of("CPU per request, chat c=1", "us", rounds.of("c1.cpu_us", new), rounds.of("c1.cpu_us", old)),
        Comparison.of("CPU per request, chat c=16", "us", rounds.of("c16.cpu_us", new), rounds.of("c16.cpu_us", old)),
        Comparison.of(
            "CPU per 20-chunk stream, c=16", "us", rounds.of("stream.cpu_us", new), rounds.of("stream.cpu_us", old)
        ),
        Comparison.of(
            "CPU per request, Responses c=16",
            "us",
            rounds.of("responses.cpu_us", new),
            rounds.of("responses.cpu_us", old),
        ),
        Comparison.of("Responses / chat CPU, c=16", "x", responses_over_chat(new), responses_over_chat(old)),
    ]


async def _measure(bench: Bench, what: str, side: Endpoint, request: Any, concurrency: int) -> LoadRound:
    run = functools.partial(_load_round, bench, side, request, concurrency, track_rss=False)
    result: LoadRound = await bench.steady(what, side, run)
    return result


def _us(measured: LoadRound) -> float:
    return measured.per_1k_ms(measured.gateway_cpu_s)  # ms per 1,000 requests = us per request


async def one_round(bench: Bench, index: int, sides: dict[str, Endpoint], rounds: Rounds) -> None:
    """Every figure once, old and new in alternating order (direct too at c=1, for the added latency)."""
    gateways = [sides["gateway"], sides["old"]]
    for side in bench.ordered(index, [bench.direct, *gateways]):
        measured = await _measure(bench, f"ab.c1 round {index}", side, side.chat(), 1)
        rounds.add("c1.p50_ms", side.name, measured.result.p50_ms)
        if side.name != "direct":
            rounds.add("c1.cpu_us", side.name, _us(measured))
    c16 = bench.plan.stream_concurrency
    for side in bench.ordered(index, gateways):
        rounds.add("c16.cpu_us", side.name, _us(await _measure(bench, f"ab.c16 round {index}", side, side.chat(), c16)))
        responses = responses_endpoint(side)
        measured = await _measure(bench, f"ab.responses round {index}", responses, responses.chat(), c16)
        rounds.add("responses.cpu_us", side.name, _us(measured))
    for side in bench.ordered(index, gateways):
        measured = await _measure(bench, f"ab.stream round {index}", side, side.stream(), c16)
        rounds.add("stream.cpu_us", side.name, _us(measured))


async def run(args: argparse.Namespace, plan: Plan, pinning: Pinning, procs: Processes, tree: Path) -> Rounds:
    record = Record(errors={"direct": 0, "gateway": 0, "floor": 0, "old": 0})
    upstream = await start_upstream(plan, pinning, procs)
    new = await _start(procs, pinning, "gateway", None, upstream)
    old = await _start(procs, pinning, "old", tree, upstream)
    driver = choose_driver(args, pinning)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, StreamClient() as streams:
        bench = Bench(plan, driver, pinning, upstream, new, session, streams, record, others={"old": old})
        await bench.configure(latency_ms=0, chunks=plan.chunks, chunk_delay_ms=0)
        sides = {
            "gateway": endpoints.gateway(new.port),
            "old": dataclasses.replace(endpoints.gateway(old.port), name="old"),
        }
        for side in sides.values():  # warm-up, which also checks that both answer
            for request in (side.chat(), side.stream(), responses_endpoint(side).chat()):
                await driver.run(request, connections=plan.stream_concurrency, duration=plan.warmup)
        rounds = Rounds()
        for index in range(plan.rounds):
            print(f"[bench.ab] round {index + 1} of {plan.rounds}", flush=True)
            await one_round(bench, index, sides, rounds)
    if any(record.errors.values()):
        raise RuntimeError(f"requests failed: {record.errors}")
    return rounds


async def _start(procs: Processes, pinning: Pinning, name: str, tree: Path | None, upstream: Service) -> Service:
    """A gateway on the gateway's core: this tree's console script (`tree` None), or an old tree's `app.cli`."""
    port = free_port()
    # One hash seed for both: a process's random seed lays its dicts out its own way for its whole life, an
    # offset that every round repeats and that a sign test over the rounds would take for the code's.
    env = gateway_env(upstream) | {"PYTHONHASHSEED": "0"}
    if tree is None:
        argv = gateway_argv(argparse.Namespace(gateway_cmd=None), port)
    else:
        argv = old_gateway_argv(port)
        env["PYTHONPATH"] = str(tree)
    service = procs.start(name, argv, port=port, env=env, cwd=tree or ROOT, pinning=pinning, cpu=pinning.gateway_cpu)
    try:
        await wait_healthy(service, "/health")
    except RuntimeError as exc:
        raise RuntimeError(f"the {name} gateway did not start: {exc}\n{service.log_tail()}") from exc
    return service


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", help="the git ref to compare this tree against (e.g. main)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, each measuring every figure old and new")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measured run")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--driver", choices=("auto", "wrk", "asyncio"), default="auto", help="load driver")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="directory for ab.json / ab.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = dataclasses.replace(Plan(), rounds=max(1, args.rounds), duration=max(0.5, args.duration))
    pinning = Pinning.detect()
    pinning.pin_self()
    raise_open_file_limit()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp, Processes(Path(tmp) / "logs") as procs:
        (Path(tmp) / "logs").mkdir()
        tree = Path(tmp) / "old"
        commit = export_tree(args.ref, tree)
        changed = dependency_change(tree)
        if changed:
            print(f"[bench.ab] warning: {args.ref}'s dependencies differ from this tree's: {' '.join(changed)}")
        print(f"[bench.ab] old = {args.ref} ({commit[:10]}), new = this tree; {plan.rounds} rounds", flush=True)
        try:
            rounds = run_loop(lambda: run(args, plan, pinning, procs, tree))
        finally:
            procs.stop_all()
    table = comparisons(rounds)
    note = (
        f"Old: {args.ref} ({commit[:10]}); new: this tree. {plan.rounds} rounds of {plan.duration:g} s runs, old and "
        f"new alternating within each; the verdict is a two-sided sign test over the rounds (p < {SIGNIFICANCE})."
    )
    text = markdown(table, title="Old against new, one run", note=note)
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "old": {"ref": args.ref, "commit": commit},
        "dependency_change": changed,
        "plan": dataclasses.asdict(plan),
        "comparisons": [{**dataclasses.asdict(c), "p_value": c.p_value, "verdict": c.verdict} for c in table],
        "rounds": rounds.values,
    }
    (args.out / "ab.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    (args.out / "ab.md").write_text(text)
    print()
    print(text)
    return 1 if regressed(table) else 0


if __name__ == "__main__":
    sys.exit(main())

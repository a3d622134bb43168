"""`python -m bench` (`make bench`): run every scenario, print the table, write bench/results/latest.*.

Exits 1 when a gate fails (a ratio to a floor beyond its k, memory or a count over its limit), the gateway
does not start, or an answer is wrong; absolute figures are reported, never gated (bench/README.md, "The gates").
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import machine, report
from bench.context import Bench, Plan, Record
from bench.drivers import Driver, install_wrk, wrk_path
from bench.endpoints import ACCOUNT, GATEWAY_KEY, UPSTREAM_TOKEN
from bench.procs import NoiseMeter, Pinning, Processes, Service, free_port, raise_open_file_limit, wait_healthy
from bench.scenarios import SCENARIOS
from bench.stats import Summary
from bench.stream_client import StreamClient

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results"
NOISY_PCT = 20  # other processes' CPU, in % of one core, above which a round is called noisy


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round of everything (smoke test)")
    parser.add_argument("--rounds", type=int, help="interleaved direct/gateway rounds per figure (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per load round (default 3; wrk rounds to whole s)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--driver", choices=("auto", "wrk", "asyncio"), default="auto", help="load driver")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for latest.json / latest.md")
    parser.add_argument("--direct-only", action="store_true", help="measure the fake upstream alone")
    parser.add_argument("--only", help="run only the scenarios whose name starts with this (e.g. images)")
    parser.add_argument(
        "--gateway-cmd",
        help="command that starts the gateway, with {host} and {port} (default: workers-ai-gateway serve)",
    )
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    plan = Plan.quick() if args.quick else Plan()
    changes: dict[str, Any] = {}
    if args.rounds is not None:
        changes["rounds"] = max(1, args.rounds)
    if args.duration is not None:
        changes["duration"] = max(0.5, args.duration)
    return dataclasses.replace(plan, **changes)


def choose_driver(args: argparse.Namespace, pinning: Pinning) -> Driver:
    wrk = None
    if args.driver != "asyncio":
        wrk = wrk_path() if args.no_install else install_wrk()
        if wrk is None and args.driver == "wrk":
            raise SystemExit("wrk is not installed and could not be installed")
    return Driver(wrk, tuple(pinning.prefix(pinning.driver_cpu)))


def gateway_argv(args: argparse.Namespace, port: int) -> list[str]:
    if args.gateway_cmd:
        return shlex.split(args.gateway_cmd.format(host="127.0.0.1", port=port))
    exe = Path(sys.executable).parent / "workers-ai-gateway"
    return [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)]


BENCH_RATE_LIMITS = '{"*": 1000000000}'


def gateway_env(upstream: Service) -> dict[str, str]:
    return {
        **os.environ,
        "CF_API_BASE": f"{upstream.base_url}/client/v4",
        "CF_ACCOUNT_ID": ACCOUNT,
        "CF_API_TOKEN": UPSTREAM_TOKEN,
        "GATEWAY_API_KEYS": GATEWAY_KEY,
        "LOG_LEVEL": "warning",
        # The account pool's limits stay on (their cost is measured) but far above the load a bench sends:
        # Cloudflare's own 300 a minute would refuse all but the first seconds of a round.
        "RATE_LIMITS": BENCH_RATE_LIMITS,
        "DATA_DIR": tempfile.mkdtemp(prefix="bench-images-"),  # the images scenario's hosted files
    }


async def start_services(
    args: argparse.Namespace, plan: Plan, pinning: Pinning, procs: Processes, record: Record
) -> tuple[Service, Service | None]:
    upstream = await start_upstream(plan, pinning, procs)
    if args.direct_only:
        return upstream, None
    port = free_port()
    argv = gateway_argv(args, port)
    record.details["gateway_command"] = argv
    gateway = await _start_on_gateway_core("gateway", argv, port, gateway_env(upstream), pinning, procs, record)
    return upstream, gateway


async def start_upstream(plan: Plan, pinning: Pinning, procs: Processes) -> Service:
    """The fake upstream, on the driver's core."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.fake_upstream", "--port", str(port), "--chunks", str(plan.chunks)]
    env = dict(os.environ)
    upstream = procs.start("fake-upstream", argv, port=port, env=env, cwd=ROOT, pinning=pinning, cpu=pinning.driver_cpu)
    await wait_healthy(upstream, "/__bench/health")
    return upstream


async def _start_gateway(
    name: str,
    settings: dict[str, str],
    args: argparse.Namespace,
    upstream: Service,
    pinning: Pinning,
    procs: Processes,
    record: Record,
) -> Service | None:
    port = free_port()
    env = gateway_env(upstream) | settings
    return await _start_on_gateway_core(name, gateway_argv(args, port), port, env, pinning, procs, record)


async def start_floor(upstream: Service, pinning: Pinning, procs: Processes, record: Record) -> Service | None:
    """The pass-through proxy (bench/null_proxy.py), on the gateway's core; idle but for its own rounds."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.null_proxy", "--port", str(port), "--upstream", upstream.base_url]
    return await _start_on_gateway_core("null-proxy", argv, port, dict(os.environ), pinning, procs, record)


async def _start_on_gateway_core(
    name: str, argv: list[str], port: int, env: dict[str, str], pinning: Pinning, procs: Processes, record: Record
) -> Service | None:
    """Start a server on the gateway's core and wait for its /health; if it does not come up, the run goes
    on without it and says why."""
    try:
        service = procs.start(name, argv, port=port, env=env, cwd=ROOT, pinning=pinning, cpu=pinning.gateway_cpu)
        await wait_healthy(service, "/health")
    except (OSError, RuntimeError) as exc:
        record.problems.append(f"{name} did not start: {exc}")
        return None
    return service


async def run(args: argparse.Namespace, plan: Plan, pinning: Pinning, driver: Driver, procs: Processes) -> Record:
    record = Record()
    quiet = NoiseMeter([])
    await asyncio.sleep(1.0)
    busy = record.details["box_busy_before_pct"] = quiet.stop()
    if busy > NOISY_PCT:
        print(f"[bench] warning: other processes use {busy:.0f}% of a core; figures will be noisy", flush=True)
    _probe_speed(record, pinning, "before")
    upstream, gateway = await start_services(args, plan, pinning, procs, record)
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector) as session, StreamClient() as streams:
        bench = Bench(plan, driver, pinning, upstream, gateway, session, streams, record)
        if gateway is not None:
            bench.floor = await start_floor(upstream, pinning, procs, record)
            bench.start_gateway = lambda name, settings: _start_gateway(
                name, settings, args, upstream, pinning, procs, record
            )
            bench.start_process = lambda name, argv, port: procs.start(
                name, argv, port=port, env=dict(os.environ), cwd=ROOT, pinning=pinning, cpu=pinning.driver_cpu
            )
        for name, scenario in SCENARIOS:
            if args.only and not name.startswith(args.only) and name != "check":
                continue
            started = time.monotonic()
            print(f"[bench] {name} ...", end=" ", flush=True)
            try:
                await scenario(bench)
            except Exception as exc:  # one broken scenario must not lose the others' figures
                record.problems.append(f"{name} failed: {type(exc).__name__}: {exc}")
                print(f"FAILED ({type(exc).__name__}: {exc})", flush=True)
                continue
            print(f"{time.monotonic() - started:.1f} s", flush=True)
    record.details["gateway_log_tail"] = gateway.log_tail() if gateway else None
    _probe_speed(record, pinning, "after")
    return record


def _probe_speed(record: Record, pinning: Pinning, when: str) -> None:
    speed = machine.speed_probe(pinning.prefix(pinning.gateway_cpu))
    if speed is not None:
        record.figures[f"machine.speed_{when}_us"] = Summary.single(speed)


def run_loop(coro_factory: Any) -> Any:
    """uvloop when available: the built-in driver and stream client then cost the driver core less."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro_factory())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro_factory())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = make_plan(args)
    started = time.time()
    pinning = Pinning.detect()
    pinning.pin_self()
    raise_open_file_limit()
    driver = choose_driver(args, pinning)
    print(f"[bench] driver={driver.name} pinning={pinning.enabled} plan={plan}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as log_dir, Processes(Path(log_dir)) as procs:
        try:
            record = run_loop(lambda: run(args, plan, pinning, driver, procs))
        except KeyboardInterrupt:
            print("\n[bench] interrupted; child processes stopped", file=sys.stderr)
            return 130
        finally:
            procs.stop_all()
    record.figures["errors.total"] = Summary.single(sum(record.errors.values()))
    noise = [v for key, s in record.figures.items() if key.endswith("foreign_cpu_pct") for v in s.rounds]
    if noise:
        record.figures["noise.max_foreign_cpu_pct"] = Summary.single(max(noise))
    record.figures.update(report.steal_figures(record.steal))
    record.figures.update(report.ratio_figures(record.figures))
    rows = report.build_rows(record.figures, stolen=report.stolen_groups(record.steal))
    described = machine.describe(driver.wrk)
    title = f"Benchmark ({driver.name}, {plan.rounds} rounds x {plan.duration:g} s)"
    table = report.markdown(rows, title=title, note=f"Interpreter: {machine.summary(described)}.")
    document = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "command": ["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])],
        "plan": dataclasses.asdict(plan),
        "driver": driver.name,
        "pinning": {
            "gateway_cpu": pinning.gateway_cpu,
            "driver_cpu": pinning.driver_cpu,
            "taskset": pinning.taskset,
        },
        "machine": described,
        "gateway_started": "chat.c1.gateway.rps" in record.figures,
        "passed": not report.failed(rows) and not record.problems,
        "failed": [row.figure.label for row in report.failed(rows)],
        "problems": record.problems,
        "errors": record.errors,
        "rows": [row.as_dict() for row in rows],
        "figures": {key: dataclasses.asdict(summary) for key, summary in sorted(record.figures.items())},
        "details": record.details,
        "steal": record.steal,
    }
    json_path, md_path = report.write(args.out, document, table)
    print()
    print(table)
    if noise and max(noise) > NOISY_PCT:
        noisy = sum(v > NOISY_PCT for v in noise)
        print(
            f"[bench] warning: in {noisy} of {len(noise)} load rounds other processes used over {NOISY_PCT}% of a core"
        )
    for line in report.steal_notes(record.steal, plan.max_steal_pct, plan.rerun_budget_s):
        print(f"[bench] {line}")
    for problem in record.problems:
        print(f"[bench] problem: {problem}")
    print(f"[bench] wrote {json_path} and {md_path} in {document['elapsed_s']} s")
    return 0 if document["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

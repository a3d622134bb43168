"""`python -m bench.studies.instructions`: instructions the gateway's own code runs per request, by valgrind.

Wall-clock and CPU-time figures on a shared VM drift by tens of percent between runs minutes apart;
an instruction count does not. It is the figure to compare two versions of the code by. It counts what
`bench.studies.inprocess` runs (the ASGI app from the fast lane down, with canned upstream answers): not
uvicorn, not the upstream pool's sockets, not the kernel. Each kind runs twice, with a small and a large
request count, and the difference is divided by the extra requests, which cancels start-up and warm-up.
Takes about a minute and a half; needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.studies.inprocess import CHUNKS, KINDS

ROOT = Path(__file__).resolve().parents[2]
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
FEW, MANY = 100, 600


def _command(valgrind: str, kind: str, requests: int, log: Path) -> list[str]:
    return [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        f"--log-file={log}",
        sys.executable,
        "-m",
        "bench.studies.inprocess",
        "--kind",
        kind,
        "--requests",
        str(requests),
    ]


def instructions_of(log: Path) -> int:
    match = _REFS.search(log.read_text())
    if match is None:
        raise RuntimeError(f"no instruction count in {log}")
    return int(match.group(1).replace(",", ""))


def count(valgrind: str, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
    """Instructions per request of each kind; all runs in parallel (each is single-threaded)."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        runs = {
            (kind, n): (
                log := Path(tmp) / f"{kind}-{n}.log",
                subprocess.Popen(_command(valgrind, kind, n, log), cwd=ROOT),
            )
            for kind in kinds
            for n in (FEW, MANY)
        }
        for (kind, n), (_, process) in runs.items():
            if process.wait() != 0:
                raise RuntimeError(f"bench.studies.inprocess --kind {kind} --requests {n} failed under valgrind")
        return {
            kind: round((instructions_of(runs[kind, MANY][0]) - instructions_of(runs[kind, FEW][0])) / (MANY - FEW))
            for kind in kinds
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.instructions", description=__doc__)
    parser.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable)")
    args = parser.parse_args(argv)
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    per_request = count(valgrind, tuple(args.kind or KINDS))
    print("| request | instructions per request (gateway code, in-process) |")
    print("| --- | --- |")
    labels = {
        "chat": "chat completion, whole",
        "stream": "chat completion, streamed (20 chunks)",
        "stream1": "chat completion, streamed (1 chunk)",
        "messages": "Anthropic message, whole",
        "mstream": "Anthropic message, streamed (20 chunks)",
        "mstream1": "Anthropic message, streamed (1 chunk)",
        "responses": "Responses API, whole",
        "rstream": "Responses API, streamed (20 chunks)",
        "rstream1": "Responses API, streamed (1 chunk)",
    }
    for kind, value in per_request.items():
        print(f"| {labels[kind]} | {value:,} |")
    streams = (
        ("stream", "stream1", "chat"),
        ("mstream", "mstream1", "Anthropic"),
        ("rstream", "rstream1", "Responses API"),
    )
    for many, one, label in streams:
        if many in per_request and one in per_request:
            per_chunk = (per_request[many] - per_request[one]) / (CHUNKS[many] - CHUNKS[one])
            print(f"| {label} per chunk (20-chunk minus 1-chunk stream, over 19) | {per_chunk:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

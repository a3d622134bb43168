"""The in-process harness behind `python -m bench.studies.instructions`: it serves real answers, and notices
wrong ones (an instruction count for requests that failed would be meaningless)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.studies.inprocess import check, serve
from bench.studies.instructions import instructions_of


@pytest.mark.parametrize("kind", ["chat", "stream", "stream1"])
def test_the_gateway_answers_in_process(kind: str) -> None:
    asyncio.run(serve(kind, requests=3, warmup=2))  # raises unless every checked answer is right


def test_a_wrong_answer_is_refused() -> None:
    error = [{"type": "http.response.start", "status": 502, "headers": []}, {"type": "http.response.body"}]
    with pytest.raises(RuntimeError, match="answered"):
        check("chat", error)
    cut = [
        {"type": "http.response.start", "status": 200, "headers": []},
        {"type": "http.response.body", "body": b'data: {"choices":[{"delta":{"content":"tok0 "}}]}\n\n'},
    ]
    with pytest.raises(RuntimeError, match="unexpected body"):
        check("stream", cut)


def test_cachegrind_summary_is_read(tmp_path: Path) -> None:
    log = tmp_path / "cg.log"
    log.write_text("==1== \n==1== I   refs:      1,901,200,510\n")
    assert instructions_of(log) == 1_901_200_510

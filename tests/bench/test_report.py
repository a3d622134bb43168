from __future__ import annotations

import math
from pathlib import Path

import orjson

from bench.report import Figure, build_rows, failed, markdown, write
from bench.stats import Summary

FIGURES = [
    Figure("lat", "added latency", "ms", "<=", 0.3),
    Figure("rps", "throughput", "req/s", ">=", 3500),
    Figure("missing", "never measured", "ms", "<=", 1),
    Figure("info", "for context", "MB"),
]


def test_rows_pass_fail_and_info() -> None:
    figures = {"lat": Summary.of([0.2, 0.5, 0.25]), "rps": Summary.of([3000, 3100, 3400]), "info": Summary.single(1)}
    rows = {row.figure.key: row for row in build_rows(figures, FIGURES)}
    assert rows["lat"].passed is True  # the median (0.25) decides, not the worst round
    assert rows["rps"].passed is False
    assert rows["missing"].passed is False  # a target nobody measured is a miss
    assert rows["info"].passed is None
    assert [row.figure.key for row in failed(list(rows.values()))] == ["rps", "missing"]


def test_nan_never_passes() -> None:
    assert Figure("x", "x", "ms", "<=", 1).passes(math.nan) is False


def test_markdown_table_shows_target_median_spread_and_result() -> None:
    rows = build_rows({"lat": Summary.of([0.2, 0.4, 0.25]), "rps": Summary.single(4000)}, FIGURES)
    table = markdown(rows, title="t")
    assert "| added latency | <= 0.300 ms | 0.250 ms | 0.200 ms - 0.400 ms | pass |" in table
    assert "| throughput | >= 3,500 req/s | 4,000 req/s | - | pass |" in table
    assert "| never measured | <= 1.00 ms | not measured | - | **FAIL** |" in table
    assert "| for context | - | not measured | - | info |" in table


def test_markdown_note_sits_between_title_and_table() -> None:
    table = markdown(build_rows({}, FIGURES), title="t", note="Interpreter: CPython 3.11.2.")
    assert table.startswith("### t\n\nInterpreter: CPython 3.11.2.\n\n| figure |")
    assert "Interpreter" not in markdown(build_rows({}, FIGURES), title="t")


def test_write_produces_json_and_markdown(tmp_path: Path) -> None:
    rows = build_rows({"lat": Summary.of([0.2, math.nan])}, FIGURES)
    json_path, md_path = write(tmp_path / "out", {"rows": [row.as_dict() for row in rows]}, markdown(rows))
    document = orjson.loads(json_path.read_bytes())
    assert document["rows"][0]["median"] == 0.2
    assert document["rows"][0]["rounds"] == [0.2, None]
    assert md_path.read_text().startswith("### ")


def test_rows_measured_from_stolen_rounds_say_so() -> None:
    figures = [Figure("chat.c1.added_p50_ms", "added", "ms", "<=", 0.3), Figure("chat.c16.gateway.rps", "rps", "req/s")]
    summaries = {"chat.c1.added_p50_ms": Summary.single(0.5), "chat.c16.gateway.rps": Summary.single(4000)}
    rows = build_rows(summaries, figures, stolen={"chat.c1"})
    assert [row.host_steal for row in rows] == [True, False]
    assert rows[0].as_dict()["host_steal"] is True
    table = markdown(rows)
    assert "| added | <= 0.300 ms | 0.500 ms | - | **FAIL** (host steal) |" in table
    assert "| rps | - | 4,000 req/s | - | info |" in table
    assert not build_rows(summaries, figures, stolen={"chat.c"})[0].host_steal  # a group, not a prefix of one

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest

from bench.report import FIGURES, SPEED_UNITS, Figure, Row, build_rows, failed, markdown, ratio_figures, write
from bench.stats import Summary

ADDED = Figure("added_over_floor", "added latency: gateway / floor", "x", "<=", 2.0, of=("gw_ms", "floor_ms"))
RPS = Figure("rps_over_floor", "throughput: gateway / floor", "x", ">=", 0.5, of=("gw_rps", "floor_rps"))
FIGURES_UNDER_TEST = [
    ADDED,
    RPS,
    Figure("missing", "never measured", "x", "<=", 1),
    Figure("rss", "resident memory", "MB", "<=", 70),
    Figure("gw_ms", "gateway added latency", "ms"),
    Figure("floor_ms", "floor added latency", "ms"),
    Figure("gw_rps", "gateway throughput", "req/s"),
    Figure("floor_rps", "floor throughput", "req/s"),
]


def rows_for(figures: dict[str, Summary], figure_list: list[Figure] = FIGURES_UNDER_TEST) -> dict[str, Row]:
    figures = {**figures, **ratio_figures(figures, figure_list)}
    return {row.figure.key: row for row in build_rows(figures, figure_list)}


def test_a_ratio_within_k_passes_and_one_beyond_fails() -> None:
    floor = Summary.of([0.2, 0.2, 0.2])
    within = ratio_figures({"gw_ms": Summary.of([0.30, 0.32, 0.50]), "floor_ms": floor}, [ADDED])
    assert within["added_over_floor"].rounds == pytest.approx((1.5, 1.6, 2.5))  # round by round
    assert ADDED.passes(within["added_over_floor"].median) is True  # the median decides, not the worst round
    beyond = ratio_figures({"gw_ms": Summary.of([0.50, 0.45, 0.30]), "floor_ms": floor}, [ADDED])
    assert beyond["added_over_floor"].median == pytest.approx(2.25)
    assert ADDED.passes(beyond["added_over_floor"].median) is False
    # A floor k at or above: throughput half the floor's passes, under it fails.
    assert RPS.passes(0.5) is True and RPS.passes(0.49) is False


def test_a_slower_host_moves_the_absolute_figures_not_the_verdict() -> None:
    def measured(ms: float, rps: float) -> dict[str, Summary]:
        figures = {"gw_ms": ms, "floor_ms": 0.8 * ms, "gw_rps": rps, "floor_rps": 1.5 * rps, "rss": 55, "missing": 1}
        return {key: Summary.single(value) for key, value in figures.items()}

    for host in (measured(0.25, 6000), measured(0.75, 2000)):  # the second 3x slower, latency and throughput
        assert failed(list(rows_for(host).values())) == []


def test_absolute_figures_never_fail_the_run() -> None:
    """The real table: every gate met, every absolute figure absurd (a host 1,000x slower); nothing fails."""
    figures: dict[str, Summary] = {}
    for figure in FIGURES:
        if figure.limit is not None:
            assert figure.op is not None
            passing = figure.limit * (0.9 if figure.op == "<=" else 1.1) if figure.limit else 0.0
            figures[figure.key] = Summary.single(passing)
        elif figure.unit in SPEED_UNITS:
            slow = 1e-3 if figure.unit.endswith("/s") else 1e6
            figures[figure.key] = Summary.single(slow)
    rows = build_rows(figures)
    assert failed(rows) == []
    speed_rows = [row for row in rows if row.figure.unit in SPEED_UNITS]
    assert speed_rows and all(row.passed is None for row in speed_rows)


def test_no_figure_in_a_speed_unit_can_be_gated() -> None:
    with pytest.raises(ValueError, match="ratio"):
        Figure("chat.c1.added_p50_ms", "added latency", "ms", "<=", 0.3)
    gated = [figure for figure in FIGURES if figure.limit is not None]
    assert all(figure.unit == "x" or figure.unit not in SPEED_UNITS for figure in gated)
    ratios = [figure for figure in gated if figure.unit == "x"]
    assert all(figure.of is not None for figure in ratios)  # every ratio says what it is a ratio of


def test_the_table_shows_the_ratio_its_k_the_verdict_and_the_absolute_figures() -> None:
    rows = rows_for({"gw_ms": Summary.of([0.3, 0.5, 0.32]), "floor_ms": Summary.of([0.2, 0.2, 0.2])})
    table = markdown(list(rows.values()), title="t")
    assert "| figure | gate | measured (median) | spread (min-max) | result | absolute figures" in table
    added = "| added latency: gateway / floor | <= 2.00 x | 1.60 x | 1.50 x - 2.50 x | pass | 0.320 ms / 0.200 ms |"
    assert added in table
    assert (
        "| throughput: gateway / floor | >= 0.50 x | not measured | - | **FAIL** | not measured / not measured |"
        in table
    )
    assert "| gateway added latency | - | 0.320 ms | 0.300 ms - 0.500 ms | info | - |" in table
    assert "| resident memory | <= 70.0 MB | not measured | - | **FAIL** | - |" in table
    beyond = rows_for({"gw_ms": Summary.single(0.9), "floor_ms": Summary.single(0.2)})
    table = markdown(list(beyond.values()))
    assert "| added latency: gateway / floor | <= 2.00 x | 4.50 x | - | **FAIL** | 0.900 ms / 0.200 ms |" in table


def test_ratios_pair_rounds_or_take_medians_and_keep_what_was_measured_as_a_ratio() -> None:
    unpaired = Figure("u", "u", "x", ">=", 1, of=("a", "b"), paired=False)
    figures = {"a": Summary.of([4.0, 8.0, 6.0]), "b": Summary.of([2.0, 2.0, 4.0]), "gw_ms": Summary.single(1.0)}
    ratios = ratio_figures(figures, [unpaired, ADDED, Figure("p", "p", "x", of=("a", "b"))])
    assert ratios["u"] == Summary.single(3.0)  # medians: 6 / 2 (rounds not interleaved)
    assert ratios["p"].rounds == (2.0, 4.0, 1.5)
    assert "added_over_floor" not in ratios  # its floor was not measured: the gate fails as unmeasured
    assert ratio_figures({**figures, "p": Summary.single(9.0)}, [Figure("p", "p", "x", of=("a", "b"))]) == {}
    zero = ratio_figures({"gw_ms": Summary.of([0.3, 0.3]), "floor_ms": Summary.of([0.0, 0.2])}, [ADDED])
    assert zero["added_over_floor"].median == pytest.approx(1.5)  # a floor of 0 is no ratio; the round drops


def test_markdown_note_sits_between_title_and_table() -> None:
    table = markdown(build_rows({}, FIGURES_UNDER_TEST), title="t", note="Interpreter: CPython 3.11.2.")
    assert table.startswith("### t\n\nInterpreter: CPython 3.11.2.\n\n| figure |")
    assert "Interpreter" not in markdown(build_rows({}, FIGURES_UNDER_TEST), title="t")


def test_write_produces_json_and_markdown(tmp_path: Path) -> None:
    figures = {"gw_ms": Summary.of([0.3, math.nan]), "floor_ms": Summary.of([0.2, 0.2])}
    rows = list(rows_for(figures).values())
    json_path, md_path = write(tmp_path / "out", {"rows": [row.as_dict() for row in rows]}, markdown(rows))
    document = orjson.loads(json_path.read_bytes())
    added = document["rows"][0]
    assert added["median"] == 1.5 and added["k"] == 2.0 and added["passed"] is True
    assert added["rounds"] == [1.5, None]
    assert added["beside"] == {"gw_ms": 0.3, "floor_ms": 0.2}
    assert md_path.read_text().startswith("### ")


def test_rows_measured_from_stolen_rounds_say_so() -> None:
    figures = [
        Figure("chat.c1.added_over_floor", "added", "x", "<=", 2, of=("chat.c1.added_ms", "chat.c1.floor_ms")),
        Figure("translate.over_floor", "translate", "x", ">=", 0.5, of=("translate.rps", "chat.c64.floor.rps")),
        Figure("chat.c16.gateway.rps", "rps", "req/s"),
    ]
    summaries = {
        "chat.c1.added_over_floor": Summary.single(2.5),
        "translate.over_floor": Summary.single(1),
        "chat.c16.gateway.rps": Summary.single(4000),
    }
    rows = build_rows(summaries, figures, stolen={"chat.c1", "chat.c64"})
    assert [row.host_steal for row in rows] == [True, True, False]  # a ratio is marked by either of its parts
    assert rows[0].as_dict()["host_steal"] is True
    table = markdown(rows)
    assert "| added | <= 2.00 x | 2.50 x | - | **FAIL** (host steal) |" in table
    assert "| rps | - | 4,000 req/s | - | info | - |" in table
    assert not build_rows(summaries, figures, stolen={"chat.c"})[0].host_steal  # a group, not a prefix of one

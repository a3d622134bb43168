"""The pieces of `python -m bench.ab` (this tree's gateway against a git ref's): the old tree is exported
without touching the repository and runs its own code, and the verdict only calls a change a regression
when the rounds lean one way more often than chance allows. The full A/B run is not part of the suite."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.ab import (
    Comparison,
    Rounds,
    comparisons,
    dependency_change,
    export_tree,
    markdown,
    old_gateway_argv,
    regressed,
    sign_test,
)

PYPROJECT = '[project]\nname = "x"\ndependencies = [{deps}]\n'


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    (repo / "app").mkdir()
    (repo / "app" / "cli.py").write_text("VERSION = 'old'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "old")
    git(repo, "tag", "before")
    (repo / "app" / "cli.py").write_text("VERSION = 'new'\n")
    git(repo, "commit", "-q", "-am", "new")
    return repo


def test_the_old_tree_is_the_refs_files_and_the_repository_is_left_as_it_was(repo: Path, tmp_path: Path) -> None:
    status = git(repo, "status", "--porcelain")
    worktrees = git(repo, "worktree", "list")
    commit = export_tree("before", tmp_path / "old", repo)
    assert commit == git(repo, "rev-parse", "before").strip()
    assert (tmp_path / "old" / "app" / "cli.py").read_text() == "VERSION = 'old'\n"
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "worktree", "list") == worktrees


def test_an_unknown_ref_is_an_error_not_an_empty_tree(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError):
        export_tree("no-such-ref", tmp_path / "old", repo)


def test_the_old_gateway_runs_the_old_trees_app_not_this_venvs(tmp_path: Path) -> None:
    """Started as bench.ab starts it (its tree as working directory and PYTHONPATH), `app.cli.main` is the old
    tree's, even though this venv has this tree's `app` installed."""
    tree = tmp_path / "old"
    (tree / "app").mkdir(parents=True)
    (tree / "app" / "__init__.py").write_text("")
    (tree / "app" / "cli.py").write_text("import sys\ndef main():\n    print(__file__, *sys.argv)\n")
    argv = old_gateway_argv(4321)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)}
    out = subprocess.run(argv, cwd=tree, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert out[0] == str(tree / "app" / "cli.py")
    assert out[1:] == ["workers-ai-gateway", "serve", "--host", "127.0.0.1", "--port", "4321"]
    assert argv[0] == sys.executable


def test_a_change_of_dependencies_is_named(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "pyproject.toml").write_text(PYPROJECT.format(deps='"orjson>=3", "uvicorn"'))
    (new / "pyproject.toml").write_text(PYPROJECT.format(deps='"orjson>=3", "httptools"'))
    assert dependency_change(old, new) == ["-uvicorn", "+httptools"]
    assert dependency_change(new, new) == []


def test_sign_test() -> None:
    assert sign_test([1.1] * 8) == pytest.approx(2 / 256)
    assert sign_test([1.1] * 7 + [0.9]) == pytest.approx(2 * 9 / 256)
    assert sign_test([1.1] * 6 + [0.9] * 2) == pytest.approx(2 * 37 / 256)
    assert sign_test([1.0, 1.0]) == 1.0  # ties say nothing
    assert sign_test([]) == 1.0


def test_a_regression_in_every_round_is_called_one() -> None:
    worse = Comparison.of("cpu", "us", [110.0] * 8, [100.0] * 8)
    assert worse.ratio.median == pytest.approx(1.1)
    assert worse.verdict == "new costs more"
    assert regressed([worse]) == [worse]
    better = Comparison.of("cpu", "us", [90.0] * 8, [100.0] * 8)
    assert better.verdict == "new costs less"
    assert regressed([better]) == []


def test_rounds_that_go_both_ways_are_within_noise_however_large_the_median() -> None:
    mixed = Comparison.of("cpu", "us", [150.0, 150.0, 150.0, 150.0, 150.0, 90.0, 90.0, 90.0], [100.0] * 8)
    assert mixed.ratio.median == pytest.approx(1.5)
    assert mixed.verdict == "within noise"
    assert regressed([mixed]) == []
    one_round = Comparison.of("cpu", "us", [200.0], [100.0])
    assert one_round.verdict == "within noise"  # one round can never show anything


def test_comparisons_take_added_latency_and_responses_over_chat_round_by_round() -> None:
    rounds = Rounds()
    for direct, new, old in ((0.10, 0.30, 0.20), (0.20, 0.40, 0.30)):
        rounds.add("c1.p50_ms", "direct", direct)
        rounds.add("c1.p50_ms", "gateway", new)
        rounds.add("c1.p50_ms", "old", old)
    for side, chat, responses in (("gateway", 100.0, 120.0), ("old", 100.0, 110.0)):
        for _ in range(2):
            rounds.add("c16.cpu_us", side, chat)
            rounds.add("responses.cpu_us", side, responses)
    table = {c.label: c for c in comparisons(rounds)}
    added = table["added latency p50, c=1 (gateway minus direct)"]
    assert added.new.rounds == pytest.approx((0.2, 0.2))
    assert added.old.rounds == pytest.approx((0.1, 0.1))
    assert added.ratio.median == pytest.approx(2.0)
    ratio = table["Responses / chat CPU, c=16"]
    assert (ratio.new.median, ratio.old.median) == pytest.approx((1.2, 1.1))
    assert math.isnan(table["CPU per 20-chunk stream, c=16"].ratio.median)  # not measured: no figure, no verdict
    assert table["CPU per 20-chunk stream, c=16"].verdict == "within noise"


def test_the_table_shows_both_sides_the_ratio_its_spread_and_the_verdict() -> None:
    worse = Comparison.of("CPU per request, chat c=16", "us", [110.0, 120.0] * 4, [100.0] * 8)
    text = markdown([worse], title="t", note="n")
    row = next(line for line in text.splitlines() if line.startswith("| CPU per request"))
    assert row == "| CPU per request, chat c=16 | 100 us | 115 us | 1.150 (1.100-1.200) | 0.01 | new costs more |"

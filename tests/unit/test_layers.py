"""The import rule (pyproject.toml `[tool.importlinter]`, docs/development.md "Layers"): imports run downward
only, and no module imports itself back through others. Run by `make test`, so the rule stays true."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("app", cache_dir=None)


def _layers() -> list[grimp.Layer]:
    """The layers contract of pyproject.toml as grimp reads it (`a | b`: independent, `a : b`: not)."""
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = (c for c in contracts if c["id"] == "layers")
    found = []
    for line in contract["layers"]:
        independent = ":" not in line
        names = [name.strip() for name in line.replace(":", "|").split("|")]
        found.append(grimp.Layer(*names, independent=independent))
    return found


def test_every_contract_is_kept() -> None:
    """import-linter's own verdict on pyproject.toml's contracts; on failure its report names each import
    that breaks a contract, with file and line. (Its own process: it configures logging, which would
    silence the loggers of the tests that run after it.)"""
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", str(PYPROJECT)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    """No cycle of modules (imports under TYPE_CHECKING count: they are a dependency all the same)."""
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def test_an_upward_import_is_caught(graph: grimp.ImportGraph) -> None:
    """The check is not vacuous: one import from a leaf up to the routers, added to the real graph, is found."""
    assert graph.find_illegal_dependencies_for_layers(layers=_layers(), containers={"app"}) == set()
    upward = grimp.build_graph("app", cache_dir=None)
    upward.add_import(importer="app.upstream.client", imported="app.routers.chat")
    found = upward.find_illegal_dependencies_for_layers(layers=_layers(), containers={"app"})
    assert {(d.importer, d.imported) for d in found} == {("app.upstream", "app.routers")}


def test_every_top_level_module_is_placed(graph: grimp.ImportGraph) -> None:
    """A new module of `app` must be given its layer (the contract is exhaustive; this names the missing)."""
    placed = {name for layer in _layers() for name in layer.module_tails}
    children = {module.rsplit(".", 1)[1] for module in graph.find_children("app")}
    assert children - placed == set()
    assert placed - children == set()


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module graph, iterative (no recursion limit on a long chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups

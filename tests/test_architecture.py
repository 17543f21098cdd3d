"""The architecture: three rooms, imports flowing one way, and no import cycle.

Read from the source with :mod:`ast`, counting every import that can run, also those
inside functions; imports under ``if TYPE_CHECKING:`` are for type checkers only and
are left out of the cycle check, but not of the room rules. ``boneflare.classifiers``
sees the world through an allow-list: the observed-history contract and the error
types, nothing else of the simulator and nothing of the harness (docs/design.md, "Three rooms").
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What ``boneflare.classifiers`` may import from the rest of boneflare.
CLASSIFIERS_MAY_IMPORT = ("boneflare.simulator.observed", "boneflare.simulator.errors")


def package_dirs() -> dict[str, Path]:
    """The import packages and their folders, as pyproject.toml maps them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        name: ROOT / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()
    }


def modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name."""
    found: dict[str, Path] = {}
    for package, folder in package_dirs().items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if package != "boneflare" and "_root" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _nodes(tree: ast.AST, typing_only: bool) -> Iterator[ast.AST]:
    """Every node of ``tree``; without ``if TYPE_CHECKING:`` blocks unless ``typing_only``."""
    for node in ast.iter_child_nodes(tree):
        guarded = isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        if guarded and not typing_only:
            continue
        yield node
        yield from _nodes(node, typing_only)


def imports_of(name: str, path: Path, known: set[str], typing_only: bool = True) -> Iterator[str]:
    """The boneflare modules that ``name`` imports anywhere in its source.

    With ``typing_only=False``, imports under ``if TYPE_CHECKING:`` are left out.
    """
    is_package = path.name == "__init__.py"
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), typing_only):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            # ``from pkg import module`` imports the module; ``from pkg import name``, pkg.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target:
                yield target


def import_graph(typing_only: bool) -> dict[str, set[str]]:
    found = modules()
    return {
        name: set(imports_of(name, path, set(found), typing_only)) - {name}
        for name, path in found.items()
    }


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(typing_only=True)


def test_the_graph_sees_every_room(graph):
    assert {
        "boneflare",
        "boneflare.simulator.observed",
        "boneflare.classifiers.rules",
        "boneflare.benchmarks.harness.run",
    } <= set(graph)
    assert "boneflare.simulator.observed" in graph["boneflare.classifiers.base"]


def test_classifiers_import_only_the_observed_contract(graph):
    leaks = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("boneflare.classifiers")
        for target in targets
        if not target.startswith(("boneflare.classifiers", *CLASSIFIERS_MAY_IMPORT))
    }
    assert not leaks


def test_the_simulator_knows_nothing_of_classifiers_or_the_harness(graph):
    leaks = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("boneflare.simulator")
        for target in targets
        if target.startswith(("boneflare.classifiers", "boneflare.benchmarks"))
        or target == "boneflare"
    }
    assert not leaks


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_there_is_no_import_cycle():
    assert find_cycle(import_graph(typing_only=False)) is None


def test_the_checks_bite():
    """A forbidden import and a cycle, added to a copy of the graph, are caught."""
    fake = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(fake) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = "def f():\n    from boneflare.simulator.tables import CohortTables\n"
    path = ROOT / "build" / "leak_probe.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    try:
        known = set(modules())
        assert list(imports_of("boneflare.classifiers.leak", path, known)) == [
            "boneflare.simulator.tables"
        ]
    finally:
        path.unlink()

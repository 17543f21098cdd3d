"""boneflare as a package: one top-level name, a fast start, declared dependencies.

Each check runs in a child process where it matters (what a fresh interpreter imports,
what a user's working directory shadows), as a user would meet it.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

HEAVY = ("sklearn", "matplotlib", "dask", "distributed", "scipy", "pyarrow")
"""Libraries that the help, the scenario list and ``import boneflare`` must not load."""

FAST_COMMANDS = [
    ["--help"],
    [],
    ["scenarios", "list"],
    *[[command, "--help"] for command in ("simulate", "scenarios", "benchmark", "report")],
    *[["calibrate", action, "--help"] for action in ("check", "fit", "ppc", "report")],
    *[["classifiers", action, "--help"] for action in ("list", "check")],
]
"""Command lines that must start without the heavy libraries."""

PROBE = """
import json, sys
from boneflare.benchmarks.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"status": status, "heavy": heavy}}), file=sys.stderr)
"""


def _child(code: str, *args: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("argv", FAST_COMMANDS, ids=lambda a: " ".join(a) or "(bare)")
def test_help_and_listing_import_no_heavy_library(argv):
    result = _child(PROBE.format(heavy=HEAVY), *argv)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["status"] in (0, None), result.stderr
    assert report["heavy"] == []
    assert "usage: boneflare" in result.stdout or argv == ["scenarios", "list"]


def test_bare_boneflare_prints_the_usage():
    result = subprocess.run(
        [sys.executable, "-m", "boneflare"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: boneflare")
    assert "benchmark" in result.stdout and result.stderr == ""


def test_import_boneflare_loads_no_heavy_library():
    code = f"import sys, boneflare; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = _child(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_choices_of_the_command_line_are_the_implementations_keys():
    from boneflare.simulator.choices import ENGINE_NAMES, FORMATS, POLICY_NAMES
    from boneflare.simulator.engine import ENGINES
    from boneflare.simulator.engine.policy import BUILTIN_POLICIES
    from boneflare.simulator.io import FORMATS as IO_FORMATS

    assert tuple(ENGINES) == ENGINE_NAMES
    assert tuple(BUILTIN_POLICIES) == POLICY_NAMES
    assert IO_FORMATS is FORMATS
    from boneflare.benchmarks.runs import HEADLINE_TASK
    from boneflare.simulator.observed import TASKS

    assert TASKS[0] == HEADLINE_TASK


HIDE_DASK = """
import sys
sys.modules["dask"] = None          # as if boneflare[dask] were not installed
sys.modules["distributed"] = None
from boneflare.benchmarks.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_executor_dask_without_dask_exits_2_saying_what_to_install(tmp_path):
    args = ["benchmark", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"]
    result = _child(HIDE_DASK, *args, "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'pip install "boneflare[dask]"' in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_dask_is_an_extra_kept_in_the_test_tools():
    project = PYPROJECT["project"]
    assert not any(d.startswith("dask") for d in project["dependencies"])
    assert any(d.startswith("dask[distributed]") for d in project["optional-dependencies"]["dask"])
    assert "boneflare[dask]" in project["optional-dependencies"]["test"]


def _third_party_imports() -> set[str]:
    """Top-level names of every library imported anywhere in the package's source."""
    found: set[str] = set()
    folders = {ROOT / f for f in PYPROJECT["tool"]["setuptools"]["package-dir"].values()}
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"boneflare", "__future__"}


def _requirement_names(requirement: str) -> set[str]:
    """The distribution a requirement names, and those its extras bring that are named
    alike (``dask[distributed]`` brings the distribution ``distributed``)."""
    name = requirement
    for stop in "<>=!~; ":
        name = name.split(stop)[0]
    base, _, extras = name.partition("[")
    names = {base, *extras.rstrip("]").split(",")} - {""}
    return {n.strip().lower().replace("_", "-") for n in names}


def test_every_imported_library_is_declared_and_every_dependency_used():
    project = PYPROJECT["project"]
    required = {n for r in project["dependencies"] for n in _requirement_names(r)}
    # extras: Dask, the performance script's psutil, and pytest for parametrize_with_checks
    extras = {
        n
        for name, reqs in project["optional-dependencies"].items()
        if name in ("dask", "perf", "test")
        for r in reqs
        for n in _requirement_names(r)
    }
    imported = _third_party_imports()
    distribution = {
        name: {d.lower() for d in dists} for name, dists in packages_distributions().items()
    }
    undeclared = {m for m in imported if not distribution.get(m, {m}) & (required | extras)}
    assert undeclared == set()
    providers = {d for m in imported for d in distribution.get(m, ())}
    unused = {r for r in required if r not in providers}
    assert unused == set()


def test_license_citation_and_urls():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version:" in citation and "10.21203/rs.3.rs-518758/v1" in citation
    assert project["urls"]
    build = PYPROJECT["build-system"]["requires"]
    assert any(r.startswith("setuptools>=77") for r in build)  # SPDX license strings


SHADOWS = {
    "benchmarks/__init__.py": "raise ImportError('the user benchmarks package')\n",
    "benchmarks/conformance.py": "raise ImportError('the user conformance module')\n",
    "classifiers/__init__.py": "raise ImportError('the user classifiers package')\n",
    "simulator.py": "raise ImportError('the user simulator module')\n",
    "boneflare_probe.py": "",
}
"""A working directory a user might have: pytest-benchmark or asv folders, a script."""

SHADOW_PROBE = """
import boneflare
from boneflare.benchmarks.conformance import check_classifier
from boneflare.classifiers.rules import TimingWindow
from boneflare.simulator import load_scenario
tables = boneflare.simulate("paper", 50, seed=1)
print(len(tables.patients), boneflare.load_scenario("paper").name)
"""


def test_a_working_directory_with_benchmarks_classifiers_and_simulator_breaks_nothing(tmp_path):
    for name, text in SHADOWS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = _child(SHADOW_PROBE, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["50", "paper"]
    cli = subprocess.run(
        [sys.executable, "-m", "boneflare", "scenarios", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert "paper57" in cli.stdout


@pytest.mark.slow
def test_the_wheel_installs_exactly_one_top_level_package(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    ignore = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "docs")
    shutil.copytree(ROOT, source, ignore=ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "deprecated" not in result.stderr.lower()
    (wheel,) = tmp_path.glob("boneflare-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"boneflare"}
    for resource in (
        "boneflare/simulator/scenarios/presets/paper.toml",
        "boneflare/simulator/calibration/targets.toml",
        "boneflare/__main__.py",
    ):
        assert resource in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(entry_points).decode()
    assert "[boneflare.classifiers]" in text and "boneflare.benchmarks.cli:run" in text

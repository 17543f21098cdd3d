"""The import contract: ``classifiers`` reads observed histories only.

The forbidden contract in ``pyproject.toml`` ([tool.importlinter]) keeps ``classifiers``
from importing the engine, the truth tables, the simulator's I/O and calibration, and
the benchmark harness. It is checked as CI would (``lint-imports``), and shown to bite
on a copy of ``classifiers`` with one forbidden import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"


def lint_imports(cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(CONFIG), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contract_forbids_engine_truth_and_harness():
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in settings["contracts"] if c["source_modules"] == ["classifiers"]]
    assert contract["type"] == "forbidden"
    assert {
        "simulator.engine",
        "simulator.run",
        "simulator.tables",
        "simulator.latent",
        "simulator.io",
        "benchmarks",
    } <= set(contract["forbidden_modules"])


def test_classifiers_keep_the_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


@pytest.mark.parametrize("forbidden", ["simulator.tables", "benchmarks.conformance"])
def test_the_contract_catches_a_forbidden_import(tmp_path, forbidden):
    shutil.copytree(ROOT / "classifiers", tmp_path / "classifiers")
    module, name = forbidden.rsplit(".", 1)
    (tmp_path / "classifiers" / "leak.py").write_text(f"from {module} import {name}\n")
    result = lint_imports(tmp_path, pythonpath=str(tmp_path))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "classifiers.leak" in result.stdout


def test_loading_every_classifier_loads_no_engine_or_truth_module():
    """At run time too: importing and loading every built-in pulls in observed.py only."""
    code = (
        "import sys, classifiers; classifiers.available(); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('simulator', "
        "'benchmarks')))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    forbidden = (
        "simulator.engine",
        "simulator.run",
        "simulator.tables",
        "simulator.latent",
        "simulator.io",
        "benchmarks",
    )
    assert "simulator.observed" in out
    assert not [m for m in out if m.startswith(forbidden)], out

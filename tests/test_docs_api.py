"""The API reference is complete: every public module imports and has docstrings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import refgen  # noqa: E402

MISSING_DOCSTRING = "D100,D101,D102,D103,D104,D106"
"""pydocstyle's missing-docstring rules (magic methods and ``__init__`` are exempt)."""


def test_every_public_module_imports_so_the_api_reference_lists_it():
    modules, errors = refgen.discover_modules()
    assert errors == []
    assert {
        "boneflare",
        "boneflare.simulator",
        "boneflare.simulator.run",
        "boneflare.classifiers.base",
        "boneflare.benchmarks.cli",
    } <= set(modules)
    assert not any(part.startswith("_") for m in modules for part in m.split("."))


def test_public_code_has_docstrings():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    options = ["--no-cache", "--select", MISSING_DOCSTRING, "--output-format", "concise"]
    result = subprocess.run(
        [ruff, "check", *options, "simulator", "classifiers", "benchmarks", "docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

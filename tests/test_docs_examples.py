"""Golden examples: every gallery script prints exactly its stored output.

Each ``docs/examples/plot_*.py`` is seeded; what it prints is stored beside it as
``plot_*.out``. The output of ``boneflare`` commands pasted in the quickstart page is
checked the same way (the time taken is not compared). When a deliberate model change
moves the numbers, rewrite the golden files and the pasted blocks with
``BONEFLARE_UPDATE_GOLDEN=1 python -m pytest tests/test_docs_examples.py`` and review
the diff like any other change.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = DOCS / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
UPDATE = bool(os.environ.get("BONEFLARE_UPDATE_GOLDEN"))
TIMING = re.compile(r" in \d+(\.\d+)? s$", re.M)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "COLUMNS": "80"}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        fromfile=f"{name} (golden)",
        tofile=f"{name} (now)",
    )
    return "".join(lines)


def test_the_gallery_has_examples_and_every_golden_file_has_its_script():
    assert len(SCRIPTS) >= 2
    stale = [p.name for p in EXAMPLES.glob("*.out") if not p.with_suffix(".py").is_file()]
    assert stale == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_prints_its_golden_output(script: Path):
    result = _run([sys.executable, script.name], cwd=script.parent)
    assert result.returncode == 0, result.stderr
    golden = script.with_suffix(".out")
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    assert golden.is_file(), f"no golden output {golden.name}: run with BONEFLARE_UPDATE_GOLDEN=1"
    expected = golden.read_text(encoding="utf-8")
    assert result.stdout == expected, _diff(expected, result.stdout, golden.name)


QUICKSTART = [
    ("simulate --patients 20000 --seed 7", "scenario paper"),
    ("simulate --patients 5 --seed 7 --out run/", "wrote 5 patients"),
]
"""Commands whose output quickstart.md pastes, and how each pasted block starts."""


@pytest.mark.parametrize(("command", "start"), QUICKSTART, ids=[c for c, _ in QUICKSTART])
def test_quickstart_pastes_what_the_command_prints(command: str, start: str, tmp_path: Path):
    page = DOCS / "quickstart.md"
    text = page.read_text(encoding="utf-8")
    assert f"boneflare {command}" in text
    blocks = [b for b in re.findall(r"```text\n(.*?)```", text, re.S) if b.startswith(start)]
    assert len(blocks) == 1, f"quickstart.md should paste one block starting {start!r}"
    pasted = blocks[0]
    result = _run(
        [sys.executable, "-m", "boneflare.benchmarks.cli", *command.split()], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    if UPDATE:
        page.write_text(text.replace(pasted, result.stdout), encoding="utf-8")
        pasted = result.stdout
    now, then = TIMING.sub(" in T s", result.stdout), TIMING.sub(" in T s", pasted)
    assert now == then, _diff(pasted, result.stdout, "quickstart.md")

"""The documentation site builds with warnings as errors, as CI builds it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path):
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    doctrees = tmp_path / "doctrees"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    result = subprocess.run(
        [*command, "-d", str(doctrees), str(ROOT / "docs"), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]
    for page in ("index", "overview", "quickstart", "scenarios", "tables", "cli", "api"):
        assert (out / f"{page}.html").is_file(), page
    assert (out / "auto_examples" / "index.html").is_file()
    scenarios = (out / "scenarios.html").read_text(encoding="utf-8")
    assert "flare.ct_sensitivity" in scenarios and "paper57" in scenarios
    assert "boneflare simulate" in (out / "cli.html").read_text(encoding="utf-8")

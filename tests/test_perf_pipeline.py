"""The side-by-side performance script gives each install its own output folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from boneflare.benchmarks.perf.pipeline import measurements


def _out_folder(command: list[str]) -> str:
    return command[command.index("--out") + 1]


def test_each_install_writes_its_own_folders(tmp_path: Path) -> None:
    """An old install never has to replace (``--force``) a folder the new one laid out."""
    args = argparse.Namespace(
        baseline="/old/python", patients=1000, workers=2, stream_patients=5000, benchmark=True
    )
    rounds = measurements(args, tmp_path)
    assert {what for what, _, _ in rounds} == {
        "memory",
        "cli",
        "stream",
        "benchmark",
        "benchmark_cold",
        "benchmark_warm",
    }
    folders: dict[str, set[str]] = {"old": set(), "new": set()}
    for what, install, command in rounds:
        if what != "memory":
            folders[install].add(_out_folder(command))
        assert command[0] == ("/old/python" if install == "old" else sys.executable)
    assert folders["old"] and folders["new"]
    assert not folders["old"] & folders["new"]
    assert all(Path(folder).parent == tmp_path for folder in folders["old"] | folders["new"])

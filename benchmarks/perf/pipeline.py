"""Wall time, CPU time and peak memory of whole commands, old and new installs alternated.

Run ``python -m boneflare.benchmarks.perf.pipeline`` (see ``--help``). Each measurement
is a fresh child process running one command of an install (this one, and optionally
another given by ``--baseline PYTHON``, so two versions are compared on the same
machine, alternately, under the same load):

* ``memory``: ``simulate(...)`` of a cohort held in memory, with ``--workers``;
* ``cli``: ``boneflare simulate --patients N --out DIR`` with default options;
* ``stream``: the same command for a large cohort (``--stream-patients``);
* ``benchmark``: ``boneflare benchmark --seed 1`` with its defaults (``--benchmark``),
  new install both without the fit cache (cold) and with it filled beforehand (warm).

Peak memory is sampled from outside every 20 ms: the command's own process
(*parent*) and its whole process tree at one instant (*tree*). CPU time is the user
plus system time of the command and all its children.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from boneflare.benchmarks.perf.sampler import resident_bytes
from boneflare.benchmarks.perf.throughput import SAMPLE_SECONDS

MIB = 2.0**20


def _run(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``command``; return wall and CPU seconds and parent and tree peaks (MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    parent, tree = 0, 0
    while child.poll() is None:
        own, whole = resident_bytes(child.pid)
        parent, tree = max(parent, own), max(tree, whole)
        time.sleep(SAMPLE_SECONDS)
    out, err = child.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "parent_mib": parent / MIB,
        "tree_mib": tree / MIB,
        "stdout": out.decode()[-4000:],
    }


def _memory(python: str, patients: int, workers: int) -> list[str]:
    # Every column is read once after the run, as using the cohort would (see
    # ``throughput.read_every_column``); written out here so that an older install runs it.
    code = f"""
import numpy as np
from boneflare.simulator import simulate
tables = simulate('paper', {patients}, 7, workers={workers}, progress=False)
for _, frame in tables.items():
    for name in frame.columns:
        values = frame[name].array
        data = np.asarray(getattr(values, 'codes', values))
        if data.dtype.kind in 'biuf':
            np.add.reduce(data.view(np.uint8).reshape(-1), dtype=np.uint64)
"""
    return [python, "-c", code]


def _cli(python: str, *args: str) -> list[str]:
    return [python, "-m", "boneflare.benchmarks.cli", *args]


def measurements(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, list[str]]]:
    """``(what, install, command)`` of one round, every install in turn per measurement."""
    installs = [("new", sys.executable)]
    if args.baseline:
        installs.insert(0, ("old", args.baseline))
    rounds = []
    for name, python in installs:
        rounds.append(("memory", name, _memory(python, args.patients, args.workers)))
    # Each install writes its own folders: their layouts differ (one file or part files
    # per table), and an install need not know how to replace the other's.
    cohort = {name: str(folder / f"cohort-{name}") for name, _ in installs}
    for name, python in installs:
        command = _cli(python, "simulate", "--patients", str(args.patients), "--out", cohort[name])
        rounds.append(("cli", name, [*command, "--seed", "7", "--force"]))
    if args.stream_patients:
        for name, python in installs:
            command = _cli(python, "simulate", "--patients", str(args.stream_patients))
            command += ["--out", cohort[name]]
            rounds.append(("stream", name, [*command, "--seed", "7", "--force"]))
    if args.benchmark:
        for name, python in installs:
            command = _cli(python, "benchmark", "--seed", "1", "--out", str(folder / f"run-{name}"))
            command += ["--force", "--verbose"]
            if name == "new":
                rounds.append(("benchmark_cold", name, [*command, "--no-fit-cache"]))
                rounds.append(("benchmark_warm", name, command))
            else:
                rounds.append(("benchmark", name, command))
    return rounds


def main(argv: list[str] | None = None) -> int:
    """Measure every command ``--repeats`` times, alternating installs; print and save."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=1_000_000, help="cohort size (memory, cli)")
    p.add_argument("--workers", type=int, default=2, help="workers of the in-memory run")
    p.add_argument("--stream-patients", type=int, default=0, help="e.g. 10000000")
    p.add_argument("--benchmark", action="store_true", help="also the default benchmark")
    p.add_argument("--baseline", default=None, metavar="PYTHON", help="an old install's python")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--json", default=None, help="also write every figure to this file")
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BONEFLARE_CACHE_DIR": str(Path(tmp) / "cache")}
        if args.benchmark:  # fill the fit cache (training does not depend on the replicates)
            fill = _cli(sys.executable, "benchmark", "--seed", "1", "--replicates", "1")
            _run([*fill, "--out", str(Path(tmp) / "fill")], env)
        for repeat in range(args.repeats):
            for what, install, command in measurements(args, Path(tmp)):
                figures = _run(command, env)
                figures |= {"what": what, "install": install, "repeat": repeat}
                figures["load_average"] = os.getloadavg()[0]
                results.append(figures)
                print(
                    f"{what:<15}{install:<5}{figures['wall_seconds']:>9.1f} s wall"
                    f"{figures['cpu_seconds']:>9.1f} s CPU{figures['parent_mib']:>8.0f} MiB parent"
                    f"{figures['tree_mib']:>8.0f} MiB tree   load {figures['load_average']:.1f}",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

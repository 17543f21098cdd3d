"""Throughput and peak memory of the simulator's engines.

Run ``python -m boneflare.benchmarks.perf.throughput`` (defaults: the targets of the performance
issue). Each measurement runs in a fresh child process, so its peak memory is its own:

* ``batched``: a cohort held in memory with the batched engine (patients/s);
* ``reference``: a smaller cohort with the reference engine, in the same run;
* ``stream``: a cohort streamed to Parquet, each worker writing its chunks' part files
  (what ``boneflare simulate --out`` runs);
* ``event_loop`` (with ``--compare ROUNDS``): the ``batched`` cohort again, with the
  SimPy event loop standing in for the open-loop pass, alternated with ``batched``
  round by round so that both see the same machine load.

Peak memory is reported three ways: the measuring process's own peak resident set,
its largest worker's (``getrusage``), and the peak of the whole process tree (parent
and workers at the same instant), sampled from outside every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from boneflare.benchmarks.perf.sampler import resident_bytes
from boneflare.simulator import RunSpec, load_scenario, simulate
from boneflare.simulator.engine import engines
from boneflare.simulator.engine.batched import run_event_loop
from boneflare.simulator.run import write_simulation
from boneflare.simulator.tables import CohortTables

MIB = 1024.0
SAMPLE_SECONDS = 0.02


def read_every_column(tables: CohortTables) -> int:
    """Read every byte of every column once, as using the cohort would; return the bytes.

    Workers write an in-memory cohort into a shared file that no process has mapped
    page by page yet (:mod:`boneflare.simulator.arena`): until something reads them,
    those pages count in no process's resident memory, and a peak taken then would
    leave the cohort out.
    """
    total = 0
    for _, frame in tables.items():
        for name in frame.columns:
            values = frame[name].array
            data = values.codes if hasattr(values, "codes") else np.asarray(values)
            if data.dtype.kind in "biuf":  # text is Python objects, never in the shared file
                total += int(np.add.reduce(data.view(np.uint8).reshape(-1), dtype=np.uint64))
    return total


def _peak_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MIB
    return {"peak_parent_mib": own, "peak_largest_worker_mib": children}


def measure(mode: str, patients: int, workers: int, seed: int, scenario: str) -> dict:
    """Run one measurement in this process and return its figures."""
    spec_scenario = load_scenario(scenario)
    if mode != "stream":
        # Imports stay outside the clock: an in-memory cohort is DataFrames, and the
        # package imports pandas only when it first needs it (a streamed run never does).
        import pandas  # noqa: F401
    started = time.perf_counter()
    if mode == "stream":
        with tempfile.TemporaryDirectory() as folder:
            # What ``boneflare simulate --out`` runs: workers write the part files.
            spec = RunSpec(spec_scenario, seed)
            rows = write_simulation(
                spec, patients, f"{folder}/run", workers=workers, progress=False
            )
        count = rows["labs"]
    else:
        if mode == "event_loop":
            # This child process only (and its forked workers): the engine as it ran
            # before the open-loop pass, for a side-by-side comparison.
            engines.ENGINES["batched"] = run_event_loop
        engine = "batched" if mode == "event_loop" else mode
        tables = simulate(
            spec_scenario, patients, seed, engine=engine, workers=workers, progress=False
        )
        count = len(tables.labs)
    seconds = time.perf_counter() - started
    if mode != "stream":
        read_every_column(tables)  # after the clock: the peak counts the whole cohort
    return {
        "mode": mode,
        "patients": patients,
        "workers": workers,
        "seconds": seconds,
        "patients_per_second": patients / seconds,
        "lab_rows": int(count),
        **_peak_mib(),
    }


def _child(mode: str, patients: int, workers: int, seed: int, scenario: str) -> dict:
    command = [
        sys.executable,
        "-m",
        "boneflare.benchmarks.perf.throughput",
        "--child",
        mode,
        "--patients",
        str(patients),
        "--workers",
        str(workers),
        "--seed",
        str(seed),
        "--scenario",
        scenario,
    ]
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(command, stdout=out, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, resident_bytes(child.pid)[1])
            time.sleep(SAMPLE_SECONDS)
        if child.returncode:
            raise SystemExit(f"measurement {mode} failed with status {child.returncode}")
        out.seek(0)
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_tree_mib"] = peak / 2**20
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure and print throughput, speed-up and peak memory."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=1_000_000, help="batched cohort size")
    p.add_argument("--reference-patients", type=int, default=5_000)
    p.add_argument(
        "--stream-patients",
        type=int,
        default=0,
        help="also stream this many patients to Parquet (e.g. 10000000)",
    )
    p.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="also run the batched cohort with the event loop, alternating, ROUNDS times",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scenario", default="paper")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        figures = measure(args.child, args.patients, args.workers, args.seed, args.scenario)
        print(json.dumps(figures))
        return 0
    results = [
        _child("batched", args.patients, args.workers, args.seed, args.scenario),
        _child("reference", args.reference_patients, 1, args.seed, args.scenario),
    ]
    for _ in range(args.compare):
        for mode in ("event_loop", "batched"):
            results.append(_child(mode, args.patients, args.workers, args.seed, args.scenario))
    if args.stream_patients:
        results.append(
            _child("stream", args.stream_patients, args.workers, args.seed, args.scenario)
        )
    print(
        f"{'mode':<10}{'patients':>12}{'workers':>9}{'seconds':>10}{'patients/s':>13}"
        f"{'parent MiB':>12}{'worker MiB':>12}{'tree MiB':>10}"
    )
    for r in results:
        print(
            f"{r['mode']:<10}{r['patients']:>12,}{r['workers']:>9}{r['seconds']:>10.2f}"
            f"{r['patients_per_second']:>13,.0f}{r['peak_parent_mib']:>12.0f}"
            f"{r['peak_largest_worker_mib']:>12.0f}{r['peak_tree_mib']:>10.0f}"
        )
    speedup = results[0]["patients_per_second"] / results[1]["patients_per_second"]
    print(
        f"speed-up of batched ({args.workers} workers) over reference (1 process): {speedup:.0f}x"
    )
    if args.compare:
        rate = {
            mode: statistics.median(
                r["patients_per_second"] for r in results[2:] if r["mode"] == mode
            )
            for mode in ("event_loop", "batched")
        }
        print(
            f"open-loop pass over event loop, median of {args.compare} alternating rounds: "
            f"{rate['batched']:,.0f} / {rate['event_loop']:,.0f} patients/s = "
            f"{rate['batched'] / rate['event_loop']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

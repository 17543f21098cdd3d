"""Per-stage timings of one chunk: the open-loop pass against the event loop, side by side.

Run ``python -m boneflare.benchmarks.perf.stages``. Both ways run in this one process,
alternating round by round, so a busy machine slows both alike; compare their ratio.

* *event loop*: draws drawn block by block and concatenated, the SimPy batched event
  loop (one event per visit day, the engine whenever a decision policy can act) and the
  tables read back from the record;
* *open loop*: draws written straight into the chunk's arrays, every visit in one
  vectorised pass and the tables built from its visit arrays (the default without a
  policy).

Baseline, latent values and the schedule are the same code in both; they are timed
once per round and shown in both columns.

With ``--baseline PYTHON`` it compares instead two installs' open-loop pass (an older
version's python against this one), each round a fresh child process of each install
in turn, and reports CPU time (user + system) per stage: see :data:`CHILD`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from boneflare.simulator import load_scenario
from boneflare.simulator.cohort import make_baseline
from boneflare.simulator.draws import DRAW_BLOCK, Draws, draw_block, draws_for_range
from boneflare.simulator.engine.batched import run_event_loop
from boneflare.simulator.engine.followup import FollowUp
from boneflare.simulator.engine.open_loop import run_open_loop
from boneflare.simulator.latent import make_latent
from boneflare.simulator.observation import Patients
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.schedule import make_schedule
from boneflare.simulator.tables import CohortTables, cohort_tables

STAGES = ("draws", "baseline and latent", "schedule and record", "visits", "tables")
WAYS = ("event loop", "open loop")


def concatenated_draws(seed: int, start: int, stop: int, scenario: Scenario) -> Draws:
    """The draws of a range the block-concatenating way (same numbers, more copying)."""
    blocks = range(start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK + 1)
    whole = Draws.concat([draw_block(seed, b, scenario) for b in blocks])
    offset = blocks[0] * DRAW_BLOCK
    return whole.take(slice(start - offset, stop - offset))


def _timed(times: dict[str, float], stage: str, work: Callable, *args):
    started = time.perf_counter()
    result = work(*args)
    times[stage] = time.perf_counter() - started
    return result


def one_chunk(way: str, scenario: Scenario, seed: int, patients: int) -> dict[str, float]:
    """Simulate patients ``0 .. patients - 1`` one way; return seconds per stage."""
    times: dict[str, float] = {}
    draw = concatenated_draws if way == "event loop" else draws_for_range
    draws = _timed(times, "draws", draw, seed, 0, patients, scenario)

    def truth() -> Patients:
        baseline = make_baseline(scenario, seed, 0, draws)
        return Patients(scenario, baseline, make_latent(scenario, baseline, draws), draws)

    state = _timed(times, "baseline and latent", truth)
    fu = _timed(
        times,
        "schedule and record",
        lambda: FollowUp(state, make_schedule(scenario, draws)),
    )
    engine = run_event_loop if way == "event loop" else run_open_loop
    _timed(times, "visits", engine, fu)
    tables: CohortTables = _timed(times, "tables", cohort_tables, fu)
    assert len(tables.patients) == patients
    return times


CHILD = """
import json, sys, time
from boneflare.simulator import load_scenario
from boneflare.simulator.cohort import make_baseline
from boneflare.simulator.draws import draws_for_range
from boneflare.simulator.engine.followup import FollowUp
from boneflare.simulator.engine.open_loop import run_open_loop
from boneflare.simulator.latent import make_latent
from boneflare.simulator.observation import Patients
from boneflare.simulator.schedule import make_schedule
from boneflare.simulator.tables import cohort_tables
try:  # workers of a pool keep their freed memory (newer installs)
    from boneflare.simulator.allocator import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass
scenario, seed, n, chunks = load_scenario(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 4
times = {}
for k in range(chunks + 1):  # chunk 0 warms up; patients k*n .. (k+1)*n - 1
    t = {}
    def timed(stage, work, *args):
        started = time.process_time()
        out = work(*args)
        t[stage] = t.get(stage, 0.0) + time.process_time() - started
        return out
    lo = k * n
    draws = timed("draws", draws_for_range, seed, lo, lo + n, scenario)
    base = timed("baseline and latent", make_baseline, scenario, seed, lo, draws)
    latent = timed("baseline and latent", make_latent, scenario, base, draws)
    fu = timed("schedule and record", lambda: FollowUp(
        Patients(scenario, base, latent, draws), make_schedule(scenario, draws)))
    timed("visits", run_open_loop, fu)
    timed("tables", cohort_tables, fu)
    if k:
        for stage, seconds in t.items():
            times.setdefault(stage, []).append(seconds)
print(json.dumps(times))
"""
"""A child's program: CPU seconds per stage of the open-loop pass over 4 chunks of
``n`` patients (after one to warm up), with the functions every install has."""


def compare_installs(baseline: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Median CPU ms per stage of ``baseline``'s open-loop pass and of this install's."""
    pythons = {"old": baseline, "new": sys.executable}
    runs: dict[str, dict[str, list[float]]] = {way: {} for way in pythons}
    command = [CHILD, args.scenario, str(args.seed), str(args.patients)]
    for _ in range(args.rounds):
        for way, python in pythons.items():
            out = subprocess.run([python, "-c", *command], capture_output=True, check=True)
            for stage, seconds in json.loads(out.stdout).items():
                runs[way].setdefault(stage, []).extend(seconds)
    return {
        way: {s: statistics.median(v) * 1e3 for s, v in stages.items()}
        for way, stages in runs.items()
    }


def _print_installs(median: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    print(
        f"one chunk of {args.patients:,} patients, open-loop pass, CPU ms (user + system), "
        f"median of {4 * args.rounds} chunks in {args.rounds} alternating rounds"
    )
    print(f"{'stage':<22}{'old ms':>10}{'new ms':>10}{'speed-up':>10}")
    for stage in STAGES:
        old, new = median["old"][stage], median["new"][stage]
        print(f"{stage:<22}{old:>10.1f}{new:>10.1f}{old / new:>9.2f}x")
    old, new = (sum(median[way].values()) for way in ("old", "new"))
    print(f"{'total':<22}{old:>10.1f}{new:>10.1f}{old / new:>9.2f}x")
    print(
        f"patients/s on one core: {args.patients / old * 1e3:,.0f} (old), "
        f"{args.patients / new * 1e3:,.0f} (new)"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the median seconds per stage of both ways and their ratios."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=16 * DRAW_BLOCK, help="chunk size")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scenario", default="paper")
    p.add_argument("--baseline", metavar="PYTHON", help="compare with an older install's python")
    args = p.parse_args(argv)
    if args.baseline:
        _print_installs(compare_installs(args.baseline, args), args)
        return 0
    scenario = load_scenario(args.scenario)
    runs: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way in WAYS:
            runs[way].append(one_chunk(way, scenario, args.seed, args.patients))
    median = {
        way: {s: statistics.median(r[s] for r in runs[way]) * 1e3 for s in STAGES} for way in WAYS
    }
    totals = {way: statistics.median(sum(r.values()) for r in runs[way]) * 1e3 for way in WAYS}
    print(f"one chunk of {args.patients:,} patients, median of {args.rounds} alternating rounds")
    print(f"{'stage':<22}{'event loop ms':>15}{'open loop ms':>14}{'speed-up':>10}")
    for stage in STAGES:
        old, new = median["event loop"][stage], median["open loop"][stage]
        print(f"{stage:<22}{old:>15.1f}{new:>14.1f}{old / new:>9.2f}x")
    old, new = totals["event loop"], totals["open loop"]
    print(f"{'total':<22}{old:>15.1f}{new:>14.1f}{old / new:>9.2f}x")
    rate = {way: args.patients / totals[way] * 1e3 for way in WAYS}
    print(
        f"patients/s on one core: {rate['event loop']:,.0f} (event loop), "
        f"{rate['open loop']:,.0f} (open loop)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``boneflare simulate``: simulate a cohort, print a summary, optionally write the tables."""

from __future__ import annotations

import argparse
import time

from boneflare.benchmarks.commands.common import (
    add_progress_options,
    add_scenario_options,
    add_workers_option,
    non_negative_int,
    positive_int,
    scenario_from_args,
)
from boneflare.simulator.choices import ENGINE_NAMES, FORMATS, POLICY_NAMES
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.scenarios import scenario_hash


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    p = sub.add_parser("simulate", help="simulate a cohort and summarise or write its tables")
    add_scenario_options(p)
    p.add_argument(
        "--patients", type=positive_int, default=10_000, help="cohort size (default 10000)"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="batched",
        help="batched (default, fast) or reference (one process per patient)",
    )
    add_workers_option(p)
    p.add_argument("--out", default=None, help="folder to write the tables to")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table file format")
    p.add_argument("--force", action="store_true", help="replace the tables in an existing --out")
    p.add_argument(
        "--patient-id",
        type=non_negative_int,
        default=None,
        help="regenerate this one patient alone",
    )
    p.add_argument(
        "--policy",
        choices=POLICY_NAMES,
        default=None,
        help="decision policy called at every episode",
    )
    p.add_argument(
        "--closed-loop", action="store_true", help="let the policy's calls change what happens next"
    )
    add_progress_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Simulate as the options say; print a summary (in memory) or write the tables."""
    from boneflare.simulator.engine.policy import BUILTIN_POLICIES
    from boneflare.simulator.io import prepare_folder
    from boneflare.simulator.memory import check_fits, cohort_bytes
    from boneflare.simulator.run import RunSpec, assemble, simulate_patient, write_simulation
    from boneflare.simulator.summary import cohort_summary, format_summary

    scenario = scenario_from_args(args)
    if args.closed_loop and args.policy is None:
        raise BoneflareError("--closed-loop needs --policy")
    policy = BUILTIN_POLICIES[args.policy]() if args.policy else None
    spec = RunSpec(scenario, args.seed, args.engine, policy, args.closed_loop)
    if args.out is not None:
        prepare_folder(args.out, args.format, args.force)  # fail before any work
    elif args.patient_id is None:
        check_fits(
            cohort_bytes(args.patients),
            f"a cohort of {args.patients:,} patients in memory",
            "write it to disk instead with --out (streamed, any size)",
        )
    started = time.perf_counter()
    if args.out is not None:
        n = 1 if args.patient_id is not None else args.patients
        rows = write_simulation(
            spec,
            args.patients,
            args.out,
            fmt=args.format,
            force=True,
            workers=args.workers,
            progress=args.progress,
            patient_id=args.patient_id,
        )
        seconds = time.perf_counter() - started
        print(f"wrote {n:,} patients to {args.out} in {seconds:.1f} s")
        for name, count in rows.items():
            print(f"  {name}.{args.format}: {count:,} rows")
        return 0
    if args.patient_id is not None:
        tables = simulate_patient(spec, args.patient_id)
        n = 1
    else:
        n = args.patients
        tables = assemble(spec, n, workers=args.workers, progress=args.progress)
    seconds = time.perf_counter() - started
    if args.patient_id is not None:
        for name, frame in tables.items():
            print(f"== {name}")
            print(frame.to_string(index=False))
        return 0
    print(
        f"scenario {scenario.name} ({scenario_hash(scenario)}), seed {spec.seed}, "
        f"{spec.engine} engine: {n:,} patients in {seconds:.1f} s"
    )
    print(format_summary(cohort_summary(tables)))
    return 0

"""``boneflare calibrate check|fit|ppc|report``: the model against the paper."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from boneflare.benchmarks.commands.common import (
    add_scenario_options,
    add_workers_option,
    non_negative_int,
    positive_int,
    scenario_from_args,
)
from boneflare.benchmarks.runs import RUNS
from boneflare.simulator import load_scenario
from boneflare.simulator.scenarios import scenario_hash


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand and its actions."""
    parser = sub.add_parser("calibrate", help="check, fit or report the model against the paper")
    inner = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))

    c = inner.add_parser("check", help="judge a scenario against every [large_n] target")
    add_scenario_options(c)
    c.add_argument("--patients", type=positive_int, default=200_000)
    c.add_argument("--seed", type=non_negative_int, default=1)
    add_workers_option(c)
    c.add_argument(
        "--mc-z",
        type=float,
        default=0.0,
        help="widen each tolerance by this many Monte Carlo standard errors",
    )
    c.add_argument(
        "--out", default=None, help="folder to write the CSV and Markdown to (default: none)"
    )
    c.set_defaults(run=run_check)

    f = inner.add_parser("fit", help="estimate the free parameters against the targets")
    f.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a starting value (the start is the model's defaults)",
    )
    f.add_argument("--patients", type=positive_int, default=40_000)
    f.add_argument("--seed", type=non_negative_int, default=1)
    add_workers_option(f)
    f.add_argument("--max-evaluations", type=positive_int, default=600)
    f.add_argument("--name", default="paper", help="name of the fitted scenario")
    f.add_argument("--out", required=True, help="scenario file to write (.toml)")
    f.add_argument("--force", action="store_true", help="replace an existing file")
    f.set_defaults(run=run_fit)

    p = inner.add_parser("ppc", help="place the paper's 57 patients among simulated trials")
    add_scenario_options(p)
    p.set_defaults(scenario="paper57")
    p.add_argument("--replicates", type=positive_int, default=1000)
    p.add_argument("--seed", type=non_negative_int, default=1)
    add_workers_option(p)
    p.add_argument(
        "--out",
        default=f"{RUNS}/calibration",
        help=f"folder for the CSV and Markdown (default {RUNS}/calibration)",
    )
    p.set_defaults(run=run_ppc)

    r = inner.add_parser("report", help="write the calibration report (Markdown + PNG)")
    add_scenario_options(r)
    r.add_argument("--patients", type=positive_int, default=200_000)
    r.add_argument("--replicates", type=positive_int, default=1000)
    r.add_argument("--seed", type=non_negative_int, default=1)
    add_workers_option(r)
    r.add_argument(
        "--out", default=f"{RUNS}/calibration", help=f"report folder (default {RUNS}/calibration)"
    )
    r.set_defaults(run=run_report)


def run_check(args: argparse.Namespace) -> int:
    """Simulate, judge, print and write the check; exit 0 only if every target passes."""
    from boneflare.simulator.calibration import check as check_mod

    scenario = scenario_from_args(args)
    result = check_mod.run_check(scenario, args.patients, args.seed, args.mc_z, args.workers)
    title = f"Calibration check: {scenario.name}, {args.patients:,} patients, seed {args.seed}"
    print(check_mod.to_markdown(result, title), end="")
    if args.out is not None:
        for path in check_mod.write_check(result, args.out, title):
            print(f"wrote {path}")
    return 0 if result["pass"].all() else 1


def run_fit(args: argparse.Namespace) -> int:
    """Fit from the model's defaults and write the fitted scenario with its provenance."""
    from boneflare.simulator.calibration.fitted import fit_to_file

    started = time.perf_counter()

    def progress(n: int, best: float) -> None:
        if sys.stderr.isatty():
            print(f"\revaluation {n}, objective {best:.4f}", end="", file=sys.stderr)
        elif n % 25 == 0:
            print(f"evaluation {n}, objective {best:.4f}", file=sys.stderr, flush=True)

    result = fit_to_file(
        args.out,
        name=args.name,
        overrides=args.overrides,
        patients=args.patients,
        seed=args.seed,
        max_evaluations=args.max_evaluations,
        workers=args.workers,
        force=args.force,
        progress=progress,
    )
    minutes = (time.perf_counter() - started) / 60
    print(
        f"objective {result.start_objective:.4f} -> {result.objective:.4f} after "
        f"{result.evaluations} evaluations ({minutes:.1f} min)"
    )
    out = Path(args.out)
    print(f"wrote {out} (scenario hash {scenario_hash(load_scenario(str(out)))})")
    return 0


def run_ppc(args: argparse.Namespace) -> int:
    """Simulate trials, place the paper's figures, print and write the table."""
    from boneflare.simulator.calibration import ppc as ppc_mod

    scenario = scenario_from_args(args)
    result = ppc_mod.run_ppc(scenario, args.replicates, args.seed, args.workers)
    title = (
        f"Posterior predictive check: {scenario.name}, {args.replicates:,} trials, seed {args.seed}"
    )
    print(ppc_mod.to_markdown(result, title), end="")
    csv, md = ppc_mod.write_ppc(result, args.out, title)
    print(f"wrote {csv} and {md}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Simulate a large cohort and many trials; write the calibration report."""
    from boneflare.simulator.calibration.report import calibration_report

    path = calibration_report(
        scenario_from_args(args),
        args.out,
        patients=args.patients,
        replicates=args.replicates,
        seed=args.seed,
        workers=args.workers,
    )
    print(f"wrote {path}")
    return 0

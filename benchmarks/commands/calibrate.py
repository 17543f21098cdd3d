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
from boneflare.simulator import __version__, load_scenario
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.scenarios import dumps_toml, scenario_hash
from boneflare.simulator.scenarios.loader import scenario_from_dict


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
    from boneflare.simulator.calibration.fit import DEFAULT_FREE, fit, rounded

    out = Path(args.out)
    if out.exists() and not args.force:
        raise BoneflareError(f"{out} already exists; use --force to replace it")
    start = _defaults_with(args.overrides)
    started = time.perf_counter()

    def progress(n: int, best: float) -> None:
        if sys.stderr.isatty():
            print(f"\revaluation {n}, objective {best:.4f}", end="", file=sys.stderr)
        elif n % 25 == 0:
            print(f"evaluation {n}, objective {best:.4f}", file=sys.stderr, flush=True)

    result = fit(
        start,
        patients=args.patients,
        seed=args.seed,
        workers=args.workers,
        max_evaluations=args.max_evaluations,
        progress=progress,
    )
    fitted = rounded(result.scenario, DEFAULT_FREE)
    fitted = scenario_from_dict(
        {
            **_as_raw(fitted),
            "name": args.name,
            "description": "The calibrated default: the paper cohort "
            "(Shi 2021), fitted by boneflare calibrate fit.",
        }
    )
    minutes = (time.perf_counter() - started) / 60
    header = [
        "# Written by `boneflare calibrate fit` (simulated method of moments, Nelder-Mead,",
        "# common random numbers). Do not edit by hand: refit instead.",
        f"#   boneflare {__version__}; seed {args.seed}; {args.patients} patients per evaluation;",
        f"#   {result.evaluations} evaluations; objective {result.start_objective:.4f} -> "
        f"{result.objective:.4f}",
        f"#   overrides of the start: {' '.join(args.overrides) or 'none'}",
        "# Fitted parameters:",
        *[f"#   {k} = {v:.4g}" for k, v in result.values.items()],
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header) + dumps_toml(fitted))
    print(
        f"objective {result.start_objective:.4f} -> {result.objective:.4f} after "
        f"{result.evaluations} evaluations ({minutes:.1f} min)"
    )
    print(f"wrote {out} (scenario hash {scenario_hash(load_scenario(str(out)))})")
    return 0


def _as_raw(scenario) -> dict:
    from boneflare.simulator.scenarios import scenario_to_dict

    return scenario_to_dict(scenario)


def _defaults_with(overrides: list[str]):
    """The model's default parameters (the fit's start) with ``--set`` overrides."""
    from boneflare.simulator.scenarios.loader import apply_overrides
    from boneflare.simulator.scenarios.schema import Scenario

    return scenario_from_dict(apply_overrides(_as_raw(Scenario()), overrides))


def run_ppc(args: argparse.Namespace) -> int:
    """Simulate trials, place the paper's figures, print and write the table."""
    from boneflare.simulator.calibration import ppc as ppc_mod

    scenario = scenario_from_args(args)
    result = ppc_mod.run_ppc(scenario, args.replicates, args.seed, args.workers)
    title = (
        f"Posterior predictive check: {scenario.name}, {args.replicates:,} trials, seed {args.seed}"
    )
    print(ppc_mod.to_markdown(result, title), end="")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    result.to_csv(folder / "ppc.csv", index=False)
    (folder / "ppc.md").write_text(ppc_mod.to_markdown(result, title))
    print(f"wrote {folder / 'ppc.csv'} and {folder / 'ppc.md'}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Simulate a large cohort and many trials; write the calibration report."""
    from boneflare.simulator.calibration.report import write_report
    from boneflare.simulator.cohort import PAPER57_TRIAL_SIZE
    from boneflare.simulator.run import simulate
    from boneflare.simulator.scenarios import scenario_to_dict

    scenario = scenario_from_args(args)
    raw = scenario_to_dict(scenario)
    raw["cohort"]["design"] = "paper57"
    trial_scenario = scenario_from_dict(raw)
    large = simulate(scenario, args.patients, args.seed, workers=args.workers)
    trials = simulate(
        trial_scenario, args.replicates * PAPER57_TRIAL_SIZE, args.seed + 1, workers=args.workers
    )
    path = write_report(large, trials, args.out, scenario.name)
    print(f"wrote {path}")
    return 0

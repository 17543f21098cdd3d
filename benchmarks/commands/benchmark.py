"""``boneflare benchmark``: score classifiers on simulated cohorts and print the leaderboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from boneflare.benchmarks.commands.common import (
    add_progress_options,
    add_timeout_option,
    non_negative_int,
    positive_int,
)
from boneflare.benchmarks.commands.presentation import (
    add_figure_options,
    add_leaderboard_options,
)
from boneflare.benchmarks.runs import (
    DEFAULTS,
    QUICK,
    RUNS,
    benchmark_config,
    execution,
    new_run_folder,
)
from boneflare.simulator.choices import ENGINE_NAMES
from boneflare.simulator.errors import BoneflareError

if TYPE_CHECKING:
    from boneflare.benchmarks.harness import BenchmarkConfig

EXECUTORS = ("local", "dask")
"""Choices of ``--executor`` (as :data:`boneflare.benchmarks.harness.execute.EXECUTORS`; the
harness, and scikit-learn with it, is imported only when the command runs)."""

__all__ = ["DEFAULTS", "EXECUTORS", "QUICK", "config_from_args", "register", "run"]

EXIT_FAILURES = 1
"""Exit status of a run that completed but in which some classifier failed."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``benchmark`` subcommand."""
    p = sub.add_parser(
        "benchmark",
        help="score classifiers on simulated cohorts",
        description="Score flare-versus-progression classifiers on simulated cohorts: "
        "metrics per replicate, mean, Monte Carlo SE and paired differences.",
    )
    p.add_argument(
        "--scenario",
        default="paper",
        help="test scenario(s): preset names or .toml paths, comma-separated (default paper)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter of every test scenario (repeatable)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="sweep a parameter (repeatable; the cartesian product is run)",
    )
    p.add_argument(
        "--classifiers",
        default="all",
        metavar="SPECS",
        help="comma-separated classifiers: registered names, 'all', or package.module:Class "
        "(importable from here or PYTHONPATH), each with optional [param=value,...] "
        "(TOML values), e.g. 'all,timing_window[window_days=60]' (default all)",
    )
    p.add_argument("--replicates", type=positive_int, default=None, help="test cohorts (200)")
    p.add_argument("--patients", type=positive_int, default=None, help="patients per cohort (1000)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="run seed (default 0)")
    p.add_argument(
        "--max-training-patients",
        type=positive_int,
        default=None,
        help="cap on learned classifiers' training cohorts (default: their own sizes); "
        "never applied to bayes_oracle, the ceiling",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"small run: {QUICK['replicates']} replicates of {QUICK['patients']} patients, "
        f"training cohorts of at most {QUICK['max_training_patients']} patients "
        "(bayes_oracle uncapped)",
    )
    p.add_argument(
        "--train-scenario", default=None, help="train learned classifiers on this scenario"
    )
    p.add_argument(
        "--closed-loop",
        action="store_true",
        help="run each classifier as the decision policy inside the simulation",
    )
    p.add_argument(
        "--reference",
        default=None,
        help="reference of paired differences (default recist_naive when run)",
    )
    p.add_argument("--engine", choices=ENGINE_NAMES, default="batched", help="engine")
    p.add_argument(
        "--out",
        default=None,
        help=f"run folder (default: a new {RUNS}/benchmark-<date>-<time>; a folder written "
        "by simulate is refused)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue an interrupted run")
    again.add_argument(
        "--force",
        action="store_true",
        help="replace an existing run: only the files it lists as written by boneflare",
    )
    p.add_argument(
        "--rerun-changed",
        action="store_true",
        help="with --resume: recompute the units of classifiers whose version changed "
        "since the run started (otherwise such a resume is refused)",
    )
    p.add_argument("--executor", choices=EXECUTORS, default="local", help="local or dask")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (with dask)")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="local worker processes (default: the CPUs available; the results do not "
        "depend on it)",
    )
    add_timeout_option(p)
    cache = p.add_mutually_exclusive_group()
    cache.add_argument(
        "--fit-cache",
        default=None,
        metavar="DIR",
        help="folder of fitted models shared by runs: a training job fitted before (same "
        "seed, scenario, classifier, versions and source) is reused (default: "
        "$BONEFLARE_CACHE_DIR, else the user's cache folder, boneflare/)",
    )
    cache.add_argument(
        "--no-fit-cache", action="store_true", help="fit every model; read and write no cache"
    )
    add_progress_options(p)
    p.add_argument(
        "--report",
        action="store_true",
        help="also write the report (figures, HTML page) into RUN/report",
    )
    add_leaderboard_options(p)
    add_figure_options(p)
    p.set_defaults(run=run, progress=None)


def config_from_args(args: argparse.Namespace) -> BenchmarkConfig:
    """Build the configuration the options describe."""
    return benchmark_config(
        args.classifiers,
        [s.strip() for s in args.scenario.split(",") if s.strip()],
        quick=args.quick,
        replicates=args.replicates,
        patients=args.patients,
        max_training_patients=args.max_training_patients,
        seed=args.seed,
        overrides=args.overrides,
        grid=args.grid,
        train_scenario=args.train_scenario,
        closed_loop=args.closed_loop,
        reference=args.reference,
        engine=args.engine,
    )


def _fit_cache(args: argparse.Namespace) -> Path | None:
    """The fit cache the options ask for (``None``: ``--no-fit-cache``)."""
    from boneflare.benchmarks.harness.fitcache import default_cache_dir

    if args.no_fit_cache:
        return None
    return Path(args.fit_cache) if args.fit_cache else default_cache_dir()


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; print the leaderboard, warnings and failures (and write the report)."""
    from boneflare.benchmarks.harness import run_benchmark
    from boneflare.benchmarks.harness.timing import format_breakdown
    from boneflare.benchmarks.report.printed import leaderboard_text

    if args.rerun_changed and not args.resume:
        raise BoneflareError("--rerun-changed is for --resume")
    config = config_from_args(args)
    how = execution(
        args.executor,
        args.workers,
        args.scheduler,
        args.progress,
        timeout=args.timeout,
        fit_cache=_fit_cache(args),
    )
    out = Path(args.out) if args.out else new_run_folder()
    try:
        result = run_benchmark(
            config,
            out,
            execution=how,
            resume=args.resume,
            force=args.force,
            rerun_changed=args.rerun_changed,
            on_event=lambda m: print(m, file=sys.stderr),
            command=getattr(args, "command_line", None),
        )
    except KeyboardInterrupt:
        if (out / "units").is_dir():
            print(
                f"boneflare: finished units are kept in {out}; continue with --resume --out {out}",
                file=sys.stderr,
            )
        raise
    tables = {"results": result.results, "failures": result.failures}
    text = leaderboard_text(
        out,
        args.format or "table",
        args.metrics,
        args.sort_by,
        width=args.width,
        verbose=args.verbose,
        tables=tables,
    )
    print(text, end="")
    if args.verbose:
        print(format_breakdown(result.timings))
    if args.report:
        from boneflare.benchmarks.report import write_report

        folder = write_report(
            out,
            figure_format=args.figure_format,
            dpi=args.dpi,
            metrics=args.metrics,
            sort_by=args.sort_by,
        )
        print(f"report written to {folder / 'index.html'}", file=sys.stderr)
    else:
        print(f"results in {out} (boneflare report {out} draws the figures)", file=sys.stderr)
    if len(result.failures):
        n = result.failures["classifier"].nunique()
        print(
            f"boneflare: {n} classifier(s) failed; see above and {out}/failures.parquet",
            file=sys.stderr,
        )
        return EXIT_FAILURES
    return 0

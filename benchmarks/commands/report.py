"""``boneflare report RUN_DIR``: the leaderboard, figures and HTML page of a benchmark run."""

from __future__ import annotations

import argparse

from boneflare.benchmarks.commands.presentation import (
    add_figure_options,
    add_leaderboard_options,
    check_metrics,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write the leaderboard and figures of a benchmark run",
        description="Write a report folder (leaderboard.md and .json, a self-contained "
        "index.html with every figure, glossary and provenance, the CSV summaries and the "
        "figure files), or with --format print the leaderboard to standard output only.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="folder of a finished benchmark run")
    p.add_argument("--out", default=None, help="report folder (default RUN_DIR/report)")
    add_leaderboard_options(p)
    add_figure_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the leaderboard (``--format``) or write the report and say where it is."""
    from boneflare.benchmarks.harness import RunStore
    from boneflare.benchmarks.report.formats import render
    from boneflare.benchmarks.report.leaderboard import run_summary

    store = RunStore(args.run_dir)
    tables = store.load()
    check_metrics(args.metrics, set(tables["results"]["metric"].astype(str)))
    check_metrics([args.sort_by], set(tables["results"]["metric"].astype(str)) or {args.sort_by})
    if args.format is not None:
        summary = run_summary(tables, store.read_provenance(), args.sort_by)
        text = render(
            summary,
            args.format,
            args.metrics,
            title=f"Leaderboard of {store.path}",
            width=args.width,
            verbose=args.verbose,
            run=store.path.name,
        )
        print(text, end="")
        return 0
    from boneflare.benchmarks.report import write_report  # matplotlib only when needed

    folder = write_report(
        args.run_dir,
        args.out,
        figure_format=args.figure_format,
        dpi=args.dpi,
        metrics=args.metrics,
        sort_by=args.sort_by,
    )
    print(f"report written to {folder} (open {folder / 'index.html'})")
    return 0

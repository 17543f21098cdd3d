"""``boneflare report RUN_DIR``: the leaderboard, figures and HTML page of a benchmark run."""

from __future__ import annotations

import argparse

from boneflare.benchmarks.commands.presentation import (
    add_figure_options,
    add_leaderboard_options,
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
    from boneflare.benchmarks.report.printed import leaderboard_text

    if args.format is not None:
        text = leaderboard_text(
            args.run_dir,
            args.format,
            args.metrics,
            args.sort_by,
            width=args.width,
            verbose=args.verbose,
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

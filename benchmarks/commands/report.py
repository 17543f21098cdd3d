"""``boneflare report RUN_DIR``: leaderboard (Markdown, HTML) and figures of a benchmark run."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write the leaderboard and figures of a benchmark run",
        description="Write a report folder: leaderboard.md, a self-contained index.html, "
        "ROC and calibration curves, metric distributions, consequences and sweeps.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="folder of a finished benchmark run")
    p.add_argument("--out", default=None, help="report folder (default RUN_DIR/report)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the report and say where it is."""
    from boneflare.benchmarks.report import write_report  # matplotlib only when needed

    folder = write_report(args.run_dir, args.out)
    print(f"report written to {folder} (open {folder / 'index.html'})")
    return 0

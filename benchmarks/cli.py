"""The ``boneflare`` command: a thin layer over the Python API.

Every user mistake (bad scenario, option, file) ends with one line on standard error
and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from boneflare.benchmarks.commands import benchmark as benchmark_cmd
from boneflare.benchmarks.commands import calibrate as calibrate_cmd
from boneflare.benchmarks.commands import classifiers as classifiers_cmd
from boneflare.benchmarks.commands import report as report_cmd
from boneflare.benchmarks.commands import scenarios as scenarios_cmd
from boneflare.benchmarks.commands import simulate as simulate_cmd
from boneflare.simulator import __version__
from boneflare.simulator.errors import BoneflareError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``boneflare`` command and its subcommands."""
    parser = _Parser(
        prog="boneflare",
        description="Simulate lung adenocarcinoma cohorts with bone flare, and benchmark "
        "classifiers that tell flare from progression.",
    )
    parser.add_argument("--version", action="version", version=f"boneflare {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    simulate_cmd.register(sub)
    scenarios_cmd.register(sub)
    benchmark_cmd.register(sub)
    report_cmd.register(sub)
    calibrate_cmd.register(sub)
    classifiers_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (bare ``boneflare`` prints the usage)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BoneflareError as exc:
        print(f"boneflare: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into a pager or head that closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("boneflare: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

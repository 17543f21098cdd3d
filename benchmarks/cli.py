"""The ``boneflare`` command: a thin layer over the Python API.

Exit status: 0 when everything ran and passed; 1 when a run finished but recorded
failures (a classifier failed, a check or target failed), its results kept; 2 on a
user mistake (bad scenario, option, file), with one line on standard error and no
traceback; 3 on an internal error of boneflare, with one line naming a log file that
holds the traceback; 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from boneflare.benchmarks.commands import benchmark as benchmark_cmd
from boneflare.benchmarks.commands import calibrate as calibrate_cmd
from boneflare.benchmarks.commands import classifiers as classifiers_cmd
from boneflare.benchmarks.commands import report as report_cmd
from boneflare.benchmarks.commands import scenarios as scenarios_cmd
from boneflare.benchmarks.commands import simulate as simulate_cmd
from boneflare.simulator import __version__
from boneflare.simulator.errors import BoneflareError

EXIT_USAGE = 2
"""Exit status of a user mistake (one line on standard error)."""
EXIT_INTERNAL = 3
"""Exit status of an internal error (one line naming the log file with the traceback)."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT, as shells report it)."""


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
    args.command_line = ["boneflare", *(sys.argv[1:] if argv is None else argv)]
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
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug of boneflare: one line here, the traceback in a log
        log = _write_log(exc)
        print(
            f"boneflare: internal error ({type(exc).__name__}); the traceback is in {log}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def run() -> None:
    """The ``boneflare`` console command: :func:`main`, then exit with its status.

    Before the interpreter exits, every object still alive is frozen out of the
    garbage collector (:func:`gc.freeze`), so that the interpreter's teardown frees
    them without searching them for reference cycles again and again: after a default
    benchmark that search took 0.6-0.9 s, about 0.2 s remain. Exit handlers run and
    output is flushed as usual. (:func:`main` itself leaves the collector alone: it is
    also called from Python.)
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def _write_log(exc: BaseException) -> Path:
    """Write the traceback of ``exc`` to a new log file in the temporary folder; return it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"boneflare-error-{stamp}-", suffix=".log")
    with open(handle, "w", encoding="utf-8") as log:
        log.write(f"boneflare {__version__}: {' '.join(sys.argv)}\n")
        log.write("".join(traceback.format_exception(exc)))
    return Path(name)


if __name__ == "__main__":
    run()

"""Options shared by several subcommands."""

from __future__ import annotations

import argparse

from boneflare.simulator import Scenario, load_scenario


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--scenario`` and repeatable ``--set KEY=VALUE``."""
    parser.add_argument(
        "--scenario", default="paper", help="preset name or path of a .toml file (default: paper)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. --set ct.interval_days=84 (repeatable)",
    )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Load and validate the scenario the options name."""
    return load_scenario(args.scenario, args.overrides)


def _integer(text: str) -> int:
    """``text`` as an integer (underscores allowed, as in 1_000_000), or why not."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1 (underscores allowed, as in 1_000_000)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """Argparse type: an integer >= 0 (underscores allowed, as in 1_000_000)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers``: local worker processes, by default every CPU this process may use."""
    from boneflare.benchmarks.runs import default_workers

    parser.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        help="local worker processes (default: the CPUs available here, "
        f"{default_workers()}; the results do not depend on it)",
    )


def add_progress_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--progress`` / ``--no-progress`` (default: bars only on a terminal)."""
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_const",
        const=True,
        default=None,
        help="always show progress bars (default: when standard error is a terminal)",
    )
    bar.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const=False,
        help="never show progress bars",
    )


TIMEOUT_DEFAULT = 1800.0
"""Default of ``--timeout`` (as :data:`boneflare.benchmarks.harness.sandbox.DEFAULT_TIMEOUT`;
the harness is imported only when a command runs)."""


def add_timeout_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--timeout SECONDS``: the deadline of one classifier call."""
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=TIMEOUT_DEFAULT,
        metavar="SECONDS",
        help="deadline of one classifier call (building, fit, predict); a call past it "
        f"is ended and recorded as timed out (default {TIMEOUT_DEFAULT:g})",
    )


def positive_seconds(text: str) -> float:
    """Argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value

"""Options that choose how a run's results are shown (``benchmark`` and ``report``)."""

from __future__ import annotations

import argparse

from boneflare.benchmarks.report.choices import (
    DEFAULT_COLUMNS,
    DPI,
    FIGURE_FORMATS,
    FORMATS,
    SORT_METRIC,
    WIDTH,
)


def metric_list(text: str) -> list[str]:
    """Argparse type: comma-separated metric names, each known (``results.parquet`` names)."""
    from boneflare.benchmarks.metrics import METRIC_DIRECTIONS

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no metric given")
    for name in names:
        if name not in METRIC_DIRECTIONS:
            known = ", ".join(METRIC_DIRECTIONS)
            raise argparse.ArgumentTypeError(f"unknown metric {name!r}; known are {known}")
    return names


def rank_metric(text: str) -> str:
    """Argparse type: a metric with a better direction (it can rank classifiers)."""
    if "," in text:
        raise argparse.ArgumentTypeError("give one metric to sort by")
    from boneflare.benchmarks.metrics import METRIC_DIRECTIONS

    (name,) = metric_list(text)
    if METRIC_DIRECTIONS[name] not in ("higher", "lower"):
        raise argparse.ArgumentTypeError(f"metric {name!r} is neutral and cannot rank")
    return name


def _integer_from(text: str, low: int, high: int) -> int:
    """``text`` as an integer from ``low`` to ``high``, or an argparse error saying why not."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
    return value


def dpi_value(text: str) -> int:
    """Argparse type: a resolution from 30 to 1200 dots per inch."""
    return _integer_from(text, 30, 1200)


def width_value(text: str) -> int:
    """Argparse type: a table width from 40 to 1000 characters."""
    return _integer_from(text, 40, 1000)


def add_leaderboard_options(parser: argparse.ArgumentParser, formats: bool = True) -> None:
    """Add ``--metrics``, ``--sort-by``, ``--verbose`` (and ``--format``)."""
    parser.add_argument(
        "--metrics",
        type=metric_list,
        default=None,
        metavar="M1,M2,...",
        help=f"leaderboard columns (default {','.join(DEFAULT_COLUMNS)})",
    )
    parser.add_argument(
        "--sort-by",
        type=rank_metric,
        default=SORT_METRIC,
        metavar="METRIC",
        help=f"rank classifiers by this metric, best first (default {SORT_METRIC})",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show timings (fit and predict per classifier, time by phase)",
    )
    if formats:
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help="print the leaderboard to standard output in this format",
        )
    parser.add_argument(
        "--width",
        type=width_value,
        default=WIDTH,
        help=f"width of the printed table in characters (default {WIDTH})",
    )


def add_figure_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--figure-format`` and ``--dpi``."""
    parser.add_argument(
        "--figure-format",
        choices=FIGURE_FORMATS,
        default="png",
        help="format of the figure files (default png)",
    )
    parser.add_argument(
        "--dpi",
        type=dpi_value,
        default=DPI,
        help=f"resolution of raster figures (default {DPI})",
    )

"""The leaderboard of a stored run as text, as ``boneflare benchmark`` and ``report`` print it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from boneflare.benchmarks.report.choices import SORT_METRIC, WIDTH
from boneflare.simulator.errors import BoneflareError

if TYPE_CHECKING:
    import pandas as pd


def check_metrics(results: pd.DataFrame, metrics: Sequence[str] | None, sort_by: str) -> None:
    """Raise :class:`BoneflareError` if a metric to show or rank by is not in ``results``."""
    present = {str(name) for name in results["metric"].unique()}  # not every row: one per name
    for name in [*(metrics or []), *([sort_by] if present else [])]:
        if name not in present:
            raise BoneflareError(f"metric {name!r} is not in this run's results")


def leaderboard_text(
    run: str | Path,
    format: str = "table",
    metrics: Sequence[str] | None = None,
    sort_by: str = SORT_METRIC,
    *,
    width: int = WIDTH,
    verbose: bool = False,
    tables: dict[str, pd.DataFrame] | None = None,
) -> str:
    """The leaderboard of a finished run, rendered.

    Parameters
    ----------
    run : str or Path
        The run folder (its name and path head the text).
    format : str
        ``table`` (text), ``markdown``, ``csv`` or ``json``
        (:data:`boneflare.benchmarks.report.choices.FORMATS`).
    metrics : sequence of str, optional
        Columns to show (default :data:`~boneflare.benchmarks.report.choices.DEFAULT_COLUMNS`).
    sort_by : str
        Metric that ranks the classifiers, best first.
    width : int
        Width of a text table in characters.
    verbose : bool
        Also show timings.
    tables : dict of DataFrame, optional
        The run's ``results`` and ``failures``, when already in memory (default: read).

    Raises
    ------
    BoneflareError
        If the folder holds no finished run, or a metric asked for (or ``sort_by``) is
        not in its results.

    """
    from boneflare.benchmarks.harness.store import RunStore
    from boneflare.benchmarks.report.formats import render
    from boneflare.benchmarks.report.leaderboard import run_summary

    store = RunStore(run)
    tables = store.load() if tables is None else tables
    check_metrics(tables["results"], metrics, sort_by)
    summary = run_summary(tables, store.read_provenance(), sort_by)
    return render(
        summary,
        format,
        metrics,
        title=f"Leaderboard of {store.path}",
        width=width,
        verbose=verbose,
        run=store.path.name,
    )

"""Write a run's report folder: leaderboards, figures and the HTML page (see the package)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from boneflare.benchmarks.aggregate import deferral_tradeoff
from boneflare.benchmarks.harness.store import RunStore
from boneflare.benchmarks.report.appendix import PATIENTS, appendix_figures
from boneflare.benchmarks.report.distributions import distributions_figure
from boneflare.benchmarks.report.formats import to_frame, to_json, to_markdown
from boneflare.benchmarks.report.html import Figure, write_html
from boneflare.benchmarks.report.leaderboard import (
    SORT_METRIC,
    Board,
    Summary,
    boards,
    run_summary,
)
from boneflare.benchmarks.report.printed import check_metrics
from boneflare.benchmarks.report.reliability import calibration_figure
from boneflare.benchmarks.report.roc import roc_figure
from boneflare.benchmarks.report.style import (
    DPI,
    FIGURE_FORMATS,
    Drawn,
    embeddable,
    looks,
    save,
)
from boneflare.benchmarks.report.sweep import sweep_figures
from boneflare.benchmarks.report.tradeoff import tradeoff_figure
from boneflare.simulator.errors import BoneflareError

PREFIXES: Final[tuple[str, ...]] = (
    "roc",
    "calibration",
    "distributions",
    "consequences",
    "sweep",
    "appendix",
)
"""File-name prefixes of the figures (a new report replaces exactly these files)."""


def _grid_points(info: dict) -> pd.DataFrame:
    """Scenario label and swept values, one row per scenario point (no columns if no grid)."""
    scenarios = info.get("experiment", {}).get("scenarios", [])
    rows = [{"scenario": s["label"], **s.get("grid", {})} for s in scenarios]
    return pd.DataFrame(rows)


def _part(frame: pd.DataFrame, board: Board) -> pd.DataFrame:
    """Rows of ``frame`` belonging to the board's task and scenario."""
    keep = frame["scenario"].astype(str) == board.scenario
    if board.task and "task" in frame.columns:
        keep &= frame["task"].astype(str) == board.task
    return frame[keep]


def draw_figures(
    tables: dict[str, pd.DataFrame], summary: Summary, info: dict[str, Any]
) -> list[Drawn]:
    """Every figure of a run, in report order (per task and scenario, then the sweeps).

    Parameters
    ----------
    tables : dict of str to DataFrame
        The run's ``results`` and ``predictions``.
    summary : Summary
        Its summary (:func:`boneflare.benchmarks.report.leaderboard.run_summary`).
    info : dict
        Its provenance (classifier order, grid).

    Returns
    -------
    list of Drawn
        The figures with their stems and captions.

    """
    order = [c["label"] for c in info.get("experiment", {}).get("classifiers", [])]
    present = list(tables["results"]["classifier"].astype(str).unique())
    order += [c for c in present if c not in order]
    style = looks(order, summary.ceilings)
    drawn: list[Drawn | None] = []
    for board in boards(summary):
        predictions = _part(tables["predictions"], board)
        results = _part(tables["results"], board)
        drawn += [
            roc_figure(board, predictions, style),
            calibration_figure(board, predictions, style),
            distributions_figure(board, results, style),
            tradeoff_figure(board, style),
        ]
    ranked = next(iter(boards(summary)), None)
    panel_order = ranked.order if ranked else order
    drawn += sweep_figures(summary.summary, _grid_points(info), style, panel_order)
    return [d for d in drawn if d is not None]


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    figure_format: str = "png",
    dpi: int = DPI,
    metrics: Sequence[str] | None = None,
    sort_by: str = SORT_METRIC,
    appendix_patients: int = PATIENTS,
) -> Path:
    """Write the report of the run in ``run_dir``; return the report folder.

    Parameters
    ----------
    run_dir : str or Path
        Folder of a finished benchmark run.
    out : str or Path, optional
        Report folder (default ``run_dir/report``); created if needed.
    figure_format : {"png", "svg", "pdf"}
        Format of the figure files (the HTML page embeds PNG or SVG).
    dpi : int
        Resolution of raster figures.
    metrics : sequence of str, optional
        Leaderboard columns (default: the key columns).
    sort_by : str
        Metric the leaderboard ranks by.
    appendix_patients : int
        Patients simulated for the appendix (0: no appendix).

    Returns
    -------
    Path
        The report folder.

    Raises
    ------
    BoneflareError
        If ``run_dir`` holds no finished benchmark run, a metric to show or rank by is
        not in its results, or the report folder cannot be written.

    """
    if figure_format not in FIGURE_FORMATS:
        raise BoneflareError(
            f"unknown figure format {figure_format!r}: known are {', '.join(FIGURE_FORMATS)}"
        )
    store = RunStore(run_dir)
    tables = store.load()
    check_metrics(tables["results"], metrics, sort_by)
    info = store.read_provenance()
    folder = Path(out) if out is not None else store.path / "report"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BoneflareError(f"cannot write report folder {folder}: {exc.strerror}") from None
    for prefix in PREFIXES:
        for fmt in FIGURE_FORMATS:
            for old in folder.glob(f"{prefix}_*.{fmt}"):
                old.unlink()
    summary = run_summary(tables, info, sort_by)
    title = f"boneflare benchmark: {store.path.name}"
    (folder / "leaderboard.md").write_text(
        to_markdown(summary, metrics, title=title), encoding="utf-8"
    )
    (folder / "leaderboard.json").write_text(
        to_json(summary, run=store.path.name), encoding="utf-8"
    )
    to_frame(summary).to_csv(folder / "summary.csv", index=False)
    if not summary.summary.empty:
        deferral_tradeoff(summary.summary).to_csv(folder / "tradeoff.csv", index=False)
    if summary.differences is not None:
        summary.differences.to_csv(folder / "differences.csv", index=False)
    figures = [_keep(d, folder, figure_format, dpi) for d in draw_figures(tables, summary, info)]
    extra = appendix_figures(info, appendix_patients) if appendix_patients > 0 else []
    appendix = [_keep(d, folder, figure_format, dpi) for d in extra]
    write_html(
        folder / "index.html", summary, info, figures, title, metrics=metrics, appendix=appendix
    )
    return folder


def _keep(drawn: Drawn, folder: Path, fmt: str, dpi: int) -> Figure:
    """Save a drawn figure and return what the page embeds."""
    path = save(drawn, folder, fmt, dpi)
    mime, data = embeddable(drawn, path, dpi)
    return Figure(drawn.title, drawn.caption, mime, data, drawn.stem.replace("_", " "))

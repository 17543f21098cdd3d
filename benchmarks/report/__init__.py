"""The report of a benchmark run: leaderboard (Markdown and HTML) and figures.

:func:`write_report` is the Python API behind ``boneflare report RUN_DIR``. It reads
the run's consolidated tables and provenance and writes, into ``RUN_DIR/report`` (or a
folder of your choice)::

    leaderboard.md         leaderboard, paired differences, failures
    index.html             the same plus every figure, self-contained (base64 images)
    summary.csv            mean, SD, MCSE and 95% interval of every metric
    differences.csv        paired differences against the reference
    tradeoff.csv           deferral trade-off at the decision point, per classifier and policy
    roc_<scenario>.png, calibration_<scenario>.png, distributions_<scenario>.png,
    consequences_<scenario>.png, sweep_<parameter>.png

The report is derived data: writing it again replaces these files (and only these).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from boneflare.benchmarks.harness.store import RunStore
from boneflare.benchmarks.report import plots
from boneflare.benchmarks.report.html import write_html
from boneflare.benchmarks.report.leaderboard import leaderboard_markdown, summarise_run
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.observed import TASKS

__all__ = ["write_report"]


def _grid_points(info: dict) -> pd.DataFrame:
    """Scenario label and swept values, one row per scenario point (no columns if no grid)."""
    scenarios = info.get("experiment", {}).get("scenarios", [])
    rows = [{"scenario": s["label"], **s.get("grid", {})} for s in scenarios]
    return pd.DataFrame(rows)


def headline_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the headline task (the first of ``TASKS``); all rows of a table without tasks."""
    if "task" not in frame.columns:
        return frame
    return frame[frame["task"].astype(str) == TASKS[0]]


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of the run in ``run_dir``; return the report folder.

    Parameters
    ----------
    run_dir : str or Path
        Folder of a finished benchmark run.
    out : str or Path, optional
        Report folder (default ``run_dir/report``); created if needed.

    Returns
    -------
    Path
        The report folder, holding ``leaderboard.md``, ``index.html``, the CSV summaries
        and the figures.

    Raises
    ------
    BoneflareError
        If ``run_dir`` holds no finished benchmark run, or the report folder cannot be
        written.

    """
    store = RunStore(run_dir)
    tables = store.load()
    info = store.read_provenance()
    folder = Path(out) if out is not None else store.path / "report"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BoneflareError(f"cannot write report folder {folder}: {exc.strerror}") from None
    for prefix in plots.PREFIXES:
        for old in folder.glob(f"{prefix}_*.png"):
            old.unlink()
    reference = info.get("experiment", {}).get("reference")
    results = tables["results"]
    summary = summarise_run(results, tables["failures"], reference)
    title = f"boneflare benchmark: {store.path.name}"
    (folder / "leaderboard.md").write_text(leaderboard_markdown(summary, title), encoding="utf-8")
    summary.summary.to_csv(folder / "summary.csv", index=False)
    summary.tradeoff.to_csv(folder / "tradeoff.csv", index=False)
    if summary.differences is not None:
        summary.differences.to_csv(folder / "differences.csv", index=False)
    # the figures show the headline task; the tables above hold both
    predictions = headline_rows(tables["predictions"])
    per_replicate, summarised = headline_rows(results), headline_rows(summary.summary)
    figures = {
        "ROC curves": plots.roc_curves(predictions, folder),
        "Calibration curves": plots.calibration_curves(predictions, folder),
        "Metric distributions across replicates": plots.distributions(per_replicate, folder),
        "Consequences for patients": plots.consequences(summarised, folder),
        "Parameter sweeps": plots.sweeps(summarised, _grid_points(info), folder),
    }
    write_html(folder / "index.html", summary, info, figures, title)
    return folder

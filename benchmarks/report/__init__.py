"""The report of a benchmark run: leaderboard (text, Markdown, CSV, JSON) and figures.

:func:`write_report` is the Python API behind ``boneflare report RUN_DIR`` (and
``boneflare benchmark --report``). It reads the run's consolidated tables and
provenance and writes, into ``RUN_DIR/report`` (or a folder of your choice)::

    leaderboard.md         leaderboard per task and scenario, paired differences,
                           warnings, failures
    leaderboard.json       every metric's mean, MCSE and 95% interval per task,
                           scenario and classifier
    index.html             all of it, every figure with its caption, a glossary, the
                           provenance and an appendix; self-contained (embedded images)
    summary.csv            mean, SD, MCSE and 95% interval of every metric
    differences.csv        paired differences against the reference
    tradeoff.csv           deferral trade-off at the decision point, per classifier and policy
    roc_*, calibration_*, distributions_*, consequences_*   per scenario (and task)
    sweep_<parameter>*     per grid axis
    appendix_figure1, appendix_figure7   the paper's figures under the run's scenario

Figures are PNG, SVG or PDF (``figure_format``). The report is derived data: writing
it again replaces these files (and only these).

Importing this package is cheap: matplotlib and scikit-learn are loaded only when a
report is written (:mod:`boneflare.benchmarks.report.writer`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["draw_figures", "write_report"]


def __getattr__(name: str) -> Any:
    """Load :func:`write_report` and :func:`draw_figures` on first use."""
    if name in __all__:
        from boneflare.benchmarks.report import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Sweep figure: how each classifier's ROC AUC moves along a swept scenario parameter.

Small multiples, one panel per classifier (ranked at the first grid value), so ten
classifiers stay readable: in each, the classifier in its colour with 95% intervals,
the ceiling as a black dashed reference line with its interval as a grey band, the
other classifiers as faint grey lines for context, and chance (0.5) dotted. The
figure works for any grid axis (for instance a difficulty dial); with several axes,
one figure is drawn per combination of the other axes' values. The headline task is
used when the run has tasks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from boneflare.benchmarks.report.glossary import info
from boneflare.benchmarks.report.leaderboard import by_task
from boneflare.benchmarks.report.style import Drawn, Look, new_figure, slug

METRIC: Final[str] = "roc_auc"
"""Metric along the sweep."""
COLUMNS: Final[int] = 4


def _x(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x positions, and tick labels when the values are not numbers."""
    raw = values.to_numpy()
    try:
        return raw.astype(float), None
    except (TypeError, ValueError):
        return np.arange(len(raw), dtype=float), [str(v) for v in raw]


def _lines(part: pd.DataFrame, key: str) -> dict[str, pd.DataFrame]:
    """Each classifier's points along the sweep (a classifier never scored has none)."""
    return {
        str(c): rows.sort_values(key)
        for c, rows in part.groupby("classifier", sort=False, observed=True)
        if rows["mean"].notna().any()
    }


def sweep_figures(
    summary: pd.DataFrame,
    points: pd.DataFrame,
    looks: dict[str, Look],
    order: Sequence[str],
) -> list[Drawn]:
    """One sweep figure per grid axis (and combination of the other axes' values).

    Parameters
    ----------
    summary : DataFrame
        Per-task summary (``task, scenario, classifier, metric, mean, ci_low, ci_high``).
    points : DataFrame
        One row per scenario label, one column per swept parameter (its value).
    looks : dict of str to Look
        Colour and marker of each classifier (the ceiling's ``ceiling`` flag set).
    order : sequence of str
        Classifiers in panel order.

    Returns
    -------
    list of Drawn
        Stems ``sweep_<parameter>[_<other>=<value>...]``.

    """
    keys = [c for c in points.columns if c != "scenario"]
    if not keys or summary.empty:
        return []
    task, rows = next(by_task(summary))
    rows = rows[rows["metric"] == METRIC].merge(points, on="scenario")
    out = []
    for key in keys:
        others = [k for k in keys if k != key]
        groups = rows.groupby(others, sort=True) if others else [((), rows)]
        for fixed, part in groups:
            if part[key].nunique() < 2:
                continue
            fixed = fixed if isinstance(fixed, tuple) else (fixed,)
            label = ", ".join(f"{k}={v}" for k, v in zip(others, fixed, strict=True))
            drawn = _figure(part, key, label, task, looks, order)
            if drawn is not None:
                out.append(drawn)
    return out


def _figure(
    part: pd.DataFrame,
    key: str,
    fixed: str,
    task: str,
    looks: dict[str, Look],
    order: Sequence[str],
) -> Drawn | None:
    lines = _lines(part, key)
    ceilings = [c for c in lines if looks.get(c) is not None and looks[c].ceiling]
    panels = [c for c in order if c in lines and c not in ceilings]
    if not panels:
        return None
    cols = min(COLUMNS, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = new_figure(3.2 * cols, 2.6 * rows + 0.9)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True))
    axes = axes.ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    ticks = None
    for ax, classifier in zip(axes, panels, strict=False):
        for other in panels:
            if other != classifier:
                x, _ = _x(lines[other][key])
                ax.plot(x, lines[other]["mean"], color="0.82", linewidth=0.9, zorder=1)
        for ceiling in ceilings:
            line = lines[ceiling]
            x, ticks = _x(line[key])
            ax.fill_between(x, line["ci_low"], line["ci_high"], color="0.85", zorder=1.5)
            ax.plot(x, line["mean"], color="black", linestyle="--", linewidth=1.6, zorder=4)
        line = lines[classifier]
        x, ticks = _x(line[key])
        mean = line["mean"].to_numpy(float)
        err = np.nan_to_num(
            [mean - line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float) - mean]
        )
        look = looks[classifier]
        ax.errorbar(
            x,
            mean,
            yerr=err,
            color=look.color,
            marker=look.marker,
            markersize=4,
            capsize=2,
            linewidth=1.6,
            zorder=5,
        )
        ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1, zorder=1)
        ax.set_title(classifier, fontsize=8, color=look.color)
        ax.grid(True, color="0.93")
        ax.tick_params(labelsize=7)
    if ticks is not None:
        axes[0].set_xticks(np.arange(len(ticks)), ticks)
    low, high = axes[0].get_ylim()
    axes[0].set_ylim(max(low, 0.0), min(high, 1.01))  # an AUC lies in [0, 1]; so may not a CI
    shown = info(METRIC)
    for k, ax in enumerate(axes[: len(panels)]):
        if k + cols >= len(panels):  # the lowest panel of its column
            ax.tick_params(labelbottom=True)
            ax.set_xlabel(key, fontsize=8)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(f"{shown.header} ({shown.better})", fontsize=8)
    ceiling_text = (
        f"black dashed: ceiling ({', '.join(ceilings)}) with 95% band; " if ceilings else ""
    )
    where = f"task {task}, " if task else ""
    fig.suptitle(
        f"{shown.header} along {key} ({where}{fixed + ', ' if fixed else ''}mean and 95% "
        f"interval over replicates)\n{ceiling_text}grey: the other classifiers; dotted: chance",
        fontsize=9,
    )
    caption = (
        f"Mean {shown.header} (with 95% intervals over replicates) of each classifier as the "
        f"scenario parameter {key} varies{' (' + fixed + ')' if fixed else ''}"
        f"{', on the ' + task + ' task' if task else ''}: one panel per classifier, the "
        "other classifiers in grey behind it. "
        + (
            "The black dashed line is the ceiling, with its 95% interval as a grey band: no "
            "honest classifier should rise above it. "
            if ceilings
            else ""
        )
        + "The dotted line at 0.5 is chance."
    )
    stem = f"sweep_{slug(key)}" + (f"_{slug(fixed)}" if fixed else "")
    return Drawn(stem, fig, caption, f"Sweep over {key}")

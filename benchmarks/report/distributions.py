"""Distributions figure: how much each metric varies from one simulated cohort to the next.

One panel per metric, one horizontal box per classifier, ranked as in the leaderboard
(best at the top, the ceiling at the bottom). Each panel says in which direction the
metric is better. The axis is set by the whiskers, not by outliers, so one wild
replicate cannot squash a panel: outliers beyond the axis are drawn as arrow heads at
its edge and counted.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from boneflare.benchmarks.report.glossary import info
from boneflare.benchmarks.report.leaderboard import Board
from boneflare.benchmarks.report.style import Drawn, Look, new_figure

METRICS: Final[tuple[str, ...]] = (
    "roc_auc",
    "balanced_accuracy",
    "brier",
    "log_loss",
    "sensitivity_flare",
    "specificity",
)
"""Panels, in order (those absent from the run are skipped)."""
WHISKER: Final[float] = 1.5
"""Whiskers reach the furthest replicate within this many IQRs of the box."""


def _limits(data: list[np.ndarray]) -> tuple[float, float]:
    """Axis limits spanning every box's whiskers, with a margin."""
    lows, highs = [], []
    for values in data:
        if values.size == 0:
            continue
        q1, q3 = np.percentile(values, [25, 75])
        span = WHISKER * (q3 - q1)
        inside = values[(values >= q1 - span) & (values <= q3 + span)]
        lows.append(inside.min())
        highs.append(inside.max())
    if not lows:
        return 0.0, 1.0
    low, high = min(lows), max(highs)
    pad = 0.06 * (high - low) if high > low else max(abs(high) * 0.05, 0.01)
    return low - pad, high + pad


def _panel(
    ax: Axes, metric: str, data: list[np.ndarray], names: list[str], looks: dict[str, Look]
) -> None:
    """One metric's boxes, ranked, with the axis set by the whiskers."""
    shown = info(metric)
    positions = np.arange(len(names), 0, -1)  # best at the top
    parts = ax.boxplot(
        data,
        positions=positions,
        orientation="horizontal",
        widths=0.6,
        whis=WHISKER,
        showmeans=True,
        showfliers=False,
        patch_artist=True,
        meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
        medianprops={"color": "black"},
    )
    for box, name in zip(parts["boxes"], names, strict=True):
        box.set_facecolor(looks[name].color)
        box.set_alpha(0.6)
    low, high = _limits(data)
    ax.set_xlim(low, high)
    beyond = 0
    for y, values in zip(positions, data, strict=True):
        left, right = values[values < low], values[values > high]
        beyond += left.size + right.size
        if left.size:
            ax.plot([low], [y], marker="<", color="0.2", clip_on=False, markersize=5)
        if right.size:
            ax.plot([high], [y], marker=">", color="0.2", clip_on=False, markersize=5)
        inside = values[(values >= low) & (values <= high)]
        q1, q3 = np.percentile(values, [25, 75]) if values.size else (0, 0)
        span = WHISKER * (q3 - q1)
        fliers = inside[(inside < q1 - span) | (inside > q3 + span)]
        ax.plot(fliers, np.full(fliers.size, y), "o", color="0.3", markersize=3, fillstyle="none")
    ax.set_yticks(positions, names, fontsize=7)
    arrow = {"higher": "better →", "lower": "← better"}.get(shown.direction, "")
    unit = {"%": " (share, 0 to 1)", "": ""}.get(shown.unit, f" ({shown.unit})")
    ax.set_xlabel(f"{shown.header}{unit}   {arrow}", fontsize=8)
    title = f"{shown.header}: {shown.better}"
    if beyond:
        title += f" ({beyond} beyond axis)"
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(True, axis="x", color="0.9")


def distributions_figure(
    board: Board, results: pd.DataFrame, looks: dict[str, Look]
) -> Drawn | None:
    """The distributions figure of one task and scenario (``None`` without metrics).

    Parameters
    ----------
    board : Board
        The task and scenario's leaderboard (ranking).
    results : DataFrame
        Its long results (``classifier, replicate, metric, value``).
    looks : dict of str to Look
        Colour of each classifier.

    Returns
    -------
    Drawn or None
        The figure, stem ``distributions_<scenario>[_<task>]`` and caption.

    """
    present = [m for m in METRICS if (results["metric"] == m).any()]
    names = [c for c in board.order if (results["classifier"] == c).any()]
    if not present or not names:
        return None
    cols = min(3, len(present))
    rows = math.ceil(len(present) / cols)
    height = max(2.6, 0.28 * len(names) + 1.2)
    fig = new_figure(4.3 * cols, height * rows + 0.7)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    for ax, metric in zip(axes, present, strict=False):
        part = results[results["metric"] == metric]
        data = [
            part.loc[part["classifier"].astype(str) == c, "value"].dropna().to_numpy(float)
            for c in names
        ]
        _panel(ax, metric, data, names, looks)
    key = [
        Patch(facecolor="0.75", edgecolor="black", label="box: middle half of replicates"),
        Line2D([], [], color="black", label="line: median"),
        Line2D([], [], marker="D", color="white", markeredgecolor="black", label="diamond: mean"),
        Line2D([], [], color="0.2", label=f"whiskers: within {WHISKER:g} box lengths"),
        Line2D([], [], marker="o", color="0.3", linestyle="", fillstyle="none", label="outlier"),
        Line2D([], [], marker=">", color="0.2", linestyle="", label="outlier beyond the axis"),
    ]
    fig.legend(handles=key, loc="outside lower center", ncol=6, fontsize=7, frameon=False)
    where = board.where
    replicates = results["replicate"].nunique()
    fig.suptitle(f"Across {replicates} replicates: {where} (ranked, best at the top)", fontsize=10)
    caption = (
        f"Each metric's spread over the {replicates} simulated cohorts of {where}, one box per "
        "classifier, ranked as in the leaderboard (best at the top, the ceiling last). The "
        "panel title says whether higher or lower is better. Boxes hold the middle half of "
        "the replicates; the line is the median and the diamond the mean. The axis spans the "
        "whiskers, so an outlying replicate cannot squash a panel: outliers beyond it are "
        "shown as arrow heads at the edge and counted in the title."
    )
    return Drawn(
        board.figure_stem("distributions"), fig, caption, "Metric distributions across replicates"
    )

"""ROC figure: which classifier separates flare from progression best, and where.

Left, the whole ROC curve of each classifier (episodes of all replicates pooled);
right, the high-sensitivity corner enlarged, where a clinician who must not stop a
working treatment operates and where the curves are told apart. The legend gives each
classifier's ROC AUC as mean ± Monte Carlo SE over replicates (the leaderboard's
number, not the pooled curve's area), ranked; the ceiling is drawn in black on top.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle
from sklearn.metrics import roc_curve

from boneflare.benchmarks.report.formats import cell
from boneflare.benchmarks.report.leaderboard import Board
from boneflare.benchmarks.report.style import Drawn, Look, new_figure

ZOOM_FPR: Final[float] = 0.3
"""Right edge of the enlarged corner (1 - specificity)."""
ZOOM_FLOOR: Final[float] = 0.5
"""The enlarged corner never starts below this sensitivity."""


def _zoom_floor(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """Lowest sensitivity any curve has at the corner's edge, rounded down to 0.05."""
    lows = [float(np.interp(ZOOM_FPR, fpr, tpr)) for fpr, tpr in curves.values()]
    low = min(lows, default=ZOOM_FLOOR)
    return max(ZOOM_FLOOR, math.floor(low * 20) / 20 - 0.05)


def roc_figure(board: Board, predictions: pd.DataFrame, looks: dict[str, Look]) -> Drawn | None:
    """The ROC figure of one task and scenario (``None`` if no curve can be drawn).

    Parameters
    ----------
    board : Board
        The task and scenario's leaderboard (order, AUC mean and MCSE).
    predictions : DataFrame
        Its stored predictions (``classifier, replicate, episode_id, y, p_flare``).
    looks : dict of str to Look
        Colour and marker of each classifier.

    Returns
    -------
    Drawn or None
        The figure, stem ``roc_<scenario>[_<task>]`` and caption.

    """
    curves = {}
    for classifier in board.order:
        rows = predictions[predictions["classifier"].astype(str) == classifier]
        y = rows["y"].to_numpy()
        if len(y) == 0 or y.min() == y.max():
            continue  # one class only: no curve
        fpr, tpr, _ = roc_curve(y, rows["p_flare"].to_numpy())
        curves[classifier] = (fpr, tpr)
    if not curves:
        return None
    first = predictions.drop_duplicates(["replicate", "episode_id"])
    n_episodes, n_flare = len(first), int(first["y"].sum())
    replicates = first["replicate"].nunique()
    fig = new_figure(11.0, 5.6)
    whole, corner = fig.subplots(1, 2)
    floor = _zoom_floor(curves)
    handles = []
    for classifier, (fpr, tpr) in curves.items():
        look = looks[classifier]
        label = f"{classifier}  AUC {cell(board, classifier, 'roc_auc')}"
        style = {
            "color": look.color,
            "marker": look.marker,
            "markersize": 6 if look.ceiling else 4,
            "linewidth": look.linewidth,
            "zorder": look.zorder,
        }
        (line,) = whole.plot(fpr, tpr, markevery=0.12, label=label, **style)
        corner.plot(fpr, tpr, markevery=0.08, **style)
        handles.append(line)
    for ax in (whole, corner):
        ax.plot([0, 1], [0, 1], color="0.55", linestyle="--", linewidth=1, zorder=1)
        ax.set_xlabel("1 - specificity (share of progression episodes called flare)")
        ax.set_ylabel("sensitivity for flare (share of flare episodes called flare)")
        ax.grid(True, color="0.9")
    whole.set(xlim=(0, 1), ylim=(0, 1.005), title="whole curve (dashed: chance)")
    whole.add_patch(_box(0, floor, ZOOM_FPR, 1.005 - floor))
    corner.set(
        xlim=(0, ZOOM_FPR),
        ylim=(floor, 1.005),
        title="high-sensitivity corner, enlarged (dotted box at left)",
    )
    where = board.where
    fig.suptitle(
        f"ROC: {where}. {n_episodes:,} episodes ({n_flare:,} flare) pooled over "
        f"{replicates} replicates",
        fontsize=11,
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=2 if len(handles) > 4 else len(handles),
        fontsize=8,
        title="ranked by mean ROC AUC ± Monte Carlo SE over replicates (★ ceiling)",
        title_fontsize=8,
        frameon=False,
    )
    caption = (
        f"ROC curves of every classifier on {where}: the {n_episodes:,} scored episodes "
        f"({n_flare:,} flare) of all {replicates} replicates pooled. Left, the whole curve; "
        f"right, the corner of high sensitivity (false-positive rate up to {ZOOM_FPR:g}) "
        "enlarged, where methods differ. Up and to the left is better. The legend's AUC is "
        "the mean over replicates ± its Monte Carlo SE, as in the leaderboard; the black "
        "curve (★) is the ceiling, a classifier that knows the true model."
    )
    return Drawn(board.figure_stem("roc"), fig, caption, "ROC curves")


def _box(x: float, y: float, width: float, height: float) -> Rectangle:
    """The dotted outline of the enlarged corner on the whole curve."""
    return Rectangle(
        (x, y), width, height, fill=False, edgecolor="0.4", linewidth=1, linestyle=":", zorder=6
    )

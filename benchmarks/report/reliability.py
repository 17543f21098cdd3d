"""Calibration figure: whether P(flare) means what it says.

One small panel per classifier, ranked as in the leaderboard: the observed share of
flare against the mean predicted P(flare) in ten equal-width bins of P(flare) (episodes
of all replicates pooled), with the diagonal of perfect calibration drawn solid under
the points; and under it a strip with the number of episodes in each bin (log scale),
so that a classifier that only outputs 0 or 1 shows as two full bins, not an invisible
dot. Bins holding fewer than :data:`MIN_EPISODES` episodes are drawn hollow, unjoined.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd

from boneflare.benchmarks.report.formats import cell
from boneflare.benchmarks.report.leaderboard import Board
from boneflare.benchmarks.report.style import Drawn, Look, new_figure

BINS: Final[int] = 10
"""Equal-width bins of P(flare) on [0, 1]."""
MIN_EPISODES: Final[int] = 10
"""A bin with fewer episodes is drawn hollow and not joined to the curve (too noisy)."""
COLUMNS: Final[int] = 4
"""Panels per row."""


def binned(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> pd.DataFrame:
    """Per equal-width bin of ``p``: episodes, mean P(flare) and observed share of flare.

    Parameters
    ----------
    y : ndarray
        Labels (1 flare, 0 progression).
    p : ndarray
        Predicted P(flare) in [0, 1].
    bins : int
        Number of bins on [0, 1]; P(flare) = 1 falls in the last.

    Returns
    -------
    DataFrame
        One row per bin: ``low, high, episodes, predicted, observed`` (NaN when empty).

    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    episodes = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(which, weights=p, minlength=bins) / episodes
        observed = np.bincount(which, weights=y, minlength=bins) / episodes
    return pd.DataFrame(
        {
            "low": edges[:-1],
            "high": edges[1:],
            "episodes": episodes,
            "predicted": predicted,
            "observed": observed,
        }
    )


def calibration_figure(
    board: Board, predictions: pd.DataFrame, looks: dict[str, Look]
) -> Drawn | None:
    """The calibration figure of one task and scenario (``None`` without predictions).

    Parameters
    ----------
    board : Board
        The task and scenario's leaderboard (panel order, Brier score).
    predictions : DataFrame
        Its stored predictions (``classifier, y, p_flare``).
    looks : dict of str to Look
        Colour and marker of each classifier.

    Returns
    -------
    Drawn or None
        The figure, stem ``calibration_<scenario>[_<task>]`` and caption.

    """
    names = [c for c in board.order if (predictions["classifier"].astype(str) == c).any()]
    if not names:
        return None
    cols = min(COLUMNS, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(3.1 * cols, 3.6 * rows + 0.5)
    panels = np.atleast_2d(fig.subfigures(rows, cols, squeeze=False)).ravel()
    for k, classifier in enumerate(names):
        c = k % cols
        main, strip = panels[k].subplots(2, 1, sharex=True, height_ratios=[3, 1])
        part = predictions[predictions["classifier"].astype(str) == classifier]
        table = binned(part["y"].to_numpy(float), part["p_flare"].to_numpy(float))
        shown = table[table["episodes"] >= MIN_EPISODES]
        look = looks[classifier]
        main.plot([0, 1], [0, 1], color="0.3", linewidth=1.2, zorder=2)
        main.plot(
            shown["predicted"],
            shown["observed"],
            color=look.color,
            marker=look.marker,
            markersize=6 if look.ceiling else 5,
            linewidth=look.linewidth,
            zorder=look.zorder,
        )
        sparse = table[(table["episodes"] > 0) & (table["episodes"] < MIN_EPISODES)]
        main.plot(
            sparse["predicted"],
            sparse["observed"],
            linestyle="",
            marker=look.marker,
            fillstyle="none",
            color=look.color,
            alpha=0.6,
        )
        main.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
        main.set_title(
            f"{classifier}{' (ceiling)' if look.ceiling else ''}\n"
            f"Brier {cell(board, classifier, 'brier')}",
            fontsize=8,
        )
        main.tick_params(labelsize=7, labelbottom=False)
        main.grid(True, color="0.92")
        if c == 0:
            main.set_ylabel("observed share of flare", fontsize=8)
        filled = table[table["episodes"] > 0]  # an empty bar has no place on a log axis
        strip.bar(
            filled["low"],
            filled["episodes"],
            width=1.0 / BINS,
            align="edge",
            color=look.color,
            alpha=0.55,
            edgecolor="white",
        )
        if table["episodes"].max() > 0:
            strip.set_yscale("log")
            strip.set_ylim(0.8, table["episodes"].max() * 3)
        strip.tick_params(labelsize=7)
        strip.set_xlabel("predicted P(flare)", fontsize=8)
        if c == 0:
            strip.set_ylabel("episodes", fontsize=8)
    where = board.where
    fig.suptitle(
        f"Calibration: {where}. Observed share of flare per bin of P(flare) "
        "(grey line: perfectly calibrated)",
        fontsize=10,
    )
    caption = (
        f"Calibration of every classifier on {where}, ranked as in the leaderboard. Episodes "
        f"of all replicates are pooled and grouped into {BINS} equal-width bins of predicted "
        "P(flare); each point is a bin's mean prediction against its observed share of "
        "flare, and points on the grey diagonal are perfectly calibrated (above it, the "
        "classifier underestimates flare). Bins with fewer than "
        f"{MIN_EPISODES} episodes are drawn hollow and not joined (too few to judge). "
        "The strip under each panel counts the "
        "episodes in each bin (log scale): a classifier that outputs only 0 or 1 fills "
        "only the two end bins."
    )
    return Drawn(board.figure_stem("calibration"), fig, caption, "Calibration")

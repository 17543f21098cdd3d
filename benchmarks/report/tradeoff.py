"""Consequences figure: the trade-off a clinician makes, in patients and days.

Stopping treatment at a "worse" bone reading protects against progression but ends a
working treatment for a flare patient; continuing (or deferring to the next CT) spares
flare patients but lets progression run on. The figure puts each classifier (each
policy) at its share of flare patients stopped (x) and its mean delay before true
progression is acted on (y): both lower is better, so the best methods sit at the
bottom left. Bars are 95% intervals of the mean over replicates (t-intervals,
``mean ± t(0.975, n-1) x MCSE``), as in ``summary.csv``.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from boneflare.benchmarks.metrics import DEFERRAL_POLICIES, policy_metric
from boneflare.benchmarks.report.glossary import info
from boneflare.benchmarks.report.leaderboard import Board
from boneflare.benchmarks.report.style import Drawn, Look, new_figure

POLICY_FILL: Final[dict[str, str]] = {
    "call": "full",
    "defer_uncertain": "left",
    "defer_all": "none",
}
"""Marker fill of each deferral policy: full for the classifier's own call."""
POLICY_LABELS: Final[dict[str, str]] = {
    "call": "filled: single-scan call",
    "defer_uncertain": "half: defer unsure calls to next CT",
    "defer_all": "hollow: defer every call to next CT",
}

X_METRIC: Final[str] = "flare_patients_stopped_share"
Y_METRIC: Final[str] = "progression_delay_days"
CLUSTER: Final[float] = 0.15
"""Points this much further (on axes scaled to 1) than the best one are enlarged with it."""


def _interval(board: Board, classifier: str, metric: str) -> tuple[float, float, float]:
    """Mean and the distances to the 95% interval's ends (0 when undefined)."""
    mean = board.value(classifier, metric, "mean")
    low = board.value(classifier, metric, "ci_low")
    high = board.value(classifier, metric, "ci_high")
    below = 0.0 if math.isnan(low) else mean - low
    above = 0.0 if math.isnan(high) else high - mean
    return mean, below, above


def _point(
    ax: Axes,
    classifier: str,
    x: tuple[float, float, float],
    y: tuple[float, float, float],
    look: Look,
    scale: float,
    fill: str = "full",
) -> None:
    """One classifier's (and policy's) mean with its 95% intervals across and up."""
    ax.errorbar(
        x[0] * scale,
        y[0],
        xerr=np.array([[x[1] * scale], [x[2] * scale]]),
        yerr=np.array([[y[1]], [y[2]]]),
        color=look.color,
        marker=look.marker,
        markersize=10 if look.ceiling else 7,
        fillstyle=fill,
        markerfacecoloralt="white",
        capsize=3,
        linewidth=1.2,
        zorder=look.zorder,
        label=classifier + (" (ceiling)" if look.ceiling else ""),
    )


def _corner(points: dict, scale: float) -> tuple[float, float, float, float]:
    """Limits of the enlarged panel: the points near the one nearest the best corner.

    Distances are taken on axes scaled to the largest value; the box spans the 95%
    intervals of the points within :data:`CLUSTER` of the nearest one (at least two).
    """
    xs = np.array([p[0][0] * scale for p in points.values()])
    ys = np.array([p[1][0] for p in points.values()])
    span_x, span_y = max(xs.max(), 1e-9), max(ys.max(), 1e-9)
    distance = np.hypot(xs / span_x, ys / span_y)
    near = np.argsort(distance)
    keep = [i for i in near if distance[i] <= distance[near[0]] + CLUSTER] or list(near[:1])
    chosen = [list(points.values())[i] for i in (keep if len(keep) > 1 else near[:2])]
    x_high = max((p[0][0] + p[0][2]) * scale for p in chosen)
    y_high = max(p[1][0] + p[1][2] for p in chosen)
    x_low = min((p[0][0] - p[0][1]) * scale for p in chosen)
    y_low = min(p[1][0] - p[1][1] for p in chosen)
    pad_x, pad_y = 0.1 * max(x_high - x_low, 1.0), 0.1 * max(y_high - y_low, 0.5)
    return x_low - pad_x, x_high + pad_x, y_low - pad_y, y_high + pad_y


def tradeoff_figure(board: Board, looks: dict[str, Look]) -> Drawn | None:
    """The trade-off figure of one task and scenario (``None`` without both metrics).

    Parameters
    ----------
    board : Board
        The task and scenario's leaderboard (means and 95% intervals).
    looks : dict of str to Look
        Colour and marker of each classifier.

    Returns
    -------
    Drawn or None
        The figure, stem ``consequences_<scenario>[_<task>]`` and caption.

    """
    if not {X_METRIC, Y_METRIC} <= set(board.metrics()):
        return None
    x_info, y_info = info(X_METRIC), info(Y_METRIC)
    points, policies = {}, {}
    for classifier in board.order:
        for policy in DEFERRAL_POLICIES:
            x = _interval(board, classifier, policy_metric(X_METRIC, policy))
            y = _interval(board, classifier, policy_metric(Y_METRIC, policy))
            if not (math.isnan(x[0]) or math.isnan(y[0])):
                policies.setdefault(classifier, {})[policy] = (x, y)
        if "call" in policies.get(classifier, {}):
            points[classifier] = policies[classifier]["call"]
    if not points:
        return None
    deferring = any(len(p) > 1 for p in policies.values())
    fig = new_figure(12.0, 5.8)
    whole, corner = fig.subplots(1, 2)
    for ax in (whole, corner):
        for classifier, by_policy in policies.items():
            look = looks[classifier]
            for policy, (x, y) in by_policy.items():
                _point(ax, classifier, x, y, look, x_info.scale, POLICY_FILL[policy])
            if len(by_policy) > 1:  # the path from the single-scan call through deferral
                path = [by_policy[p] for p in DEFERRAL_POLICIES if p in by_policy]
                ax.plot(
                    [x[0] * x_info.scale for x, _ in path],
                    [y[0] for _, y in path],
                    color=look.color,
                    linewidth=0.8,
                    linestyle=":",
                    zorder=1,
                )
        ax.set_xlabel("flare patients stopped (% of patients with a flare episode)  ← better")
        ax.set_ylabel("delay before progression is acted on (days per patient)  ← better")
        ax.grid(True, color="0.9")
    whole.set_xlim(left=-3)
    whole.set_ylim(bottom=-1)
    box = _corner(points, x_info.scale)
    corner.set_xlim(box[0], box[1])
    corner.set_ylim(box[2], box[3])
    whole.add_patch(
        Rectangle(
            (box[0], box[2]),
            box[1] - box[0],
            box[3] - box[2],
            fill=False,
            edgecolor="0.4",
            linestyle=":",
            zorder=6,
        )
    )
    whole.set_title("all classifiers (best at the bottom left)", fontsize=10)
    corner.set_title("the best, enlarged (dotted box at left)", fontsize=10)
    handles, labels = whole.get_legend_handles_labels()
    keep = {}
    for handle, label in zip(handles, labels, strict=True):
        keep.setdefault(label, handle)  # one entry per classifier (its call)
    key = list(keep.values())
    if deferring:
        key += [
            Line2D(
                [],
                [],
                color="0.3",
                marker="o",
                linestyle="",
                fillstyle=POLICY_FILL[p],
                label=POLICY_LABELS[p],
            )
            for p in DEFERRAL_POLICIES
        ]
    fig.legend(
        loc="outside right upper",
        fontsize=8,
        title="classifier; policy",
        title_fontsize=8,
        handles=key,
    )
    where = board.where
    replicates = board.replicates
    fig.suptitle(
        f"Consequences for patients: {where}\nPoints: mean over {replicates} replicates; "
        "bars: 95% interval of the mean",
        fontsize=11,
    )
    caption = (
        f"What each classifier's calls would do to patients on {where}, if the clinic acted "
        f"on them. Across: {x_info.definition} Up: {y_info.definition} Both are better "
        "lower, so the best policies sit at the bottom left (enlarged on the right); a "
        "policy that never stops "
        "sits at the top left, one that always stops at the bottom right. Filled markers are "
        "each classifier's own single-scan call; where deferral was scored, half-filled "
        "markers defer unsure calls (P(flare) near the threshold) to the next CT and hollow "
        "ones defer every decision point (PCWG3-style confirmation), joined by a dotted "
        "line. Points are means "
        f"over {replicates} replicates and bars their 95% t-intervals "
        "(mean ± t(0.975, n-1) × Monte Carlo SE)."
    )
    return Drawn(board.figure_stem("consequences"), fig, caption, "Consequences for patients")

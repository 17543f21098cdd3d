"""Figures of a benchmark run, drawn with matplotlib into PNG files.

Figures are built as :class:`matplotlib.figure.Figure` objects and saved with the Agg
canvas: no pyplot, no global backend switch, nothing to close, safe on a headless
cluster node.

Each function takes the run's tables and a folder, writes one PNG per scenario (or per
grid axis) and returns the paths written. Nothing here computes a metric that is not
also in the results: ROC and calibration curves are drawn from the stored per-episode
predictions (pooled over replicates), everything else from the long results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from boneflare.benchmarks.report.leaderboard import COLUMNS

PREFIXES: Final[tuple[str, ...]] = ("roc", "calibration", "distributions", "consequences", "sweep")
"""File-name prefixes of the figures (a new report replaces exactly these files)."""

DPI: Final[int] = 110
CALIBRATION_BINS: Final[int] = 10
"""Quantile bins of the calibration curve."""

DISTRIBUTION_METRICS: Final[tuple[str, ...]] = (
    "roc_auc",
    "balanced_accuracy",
    "sensitivity_flare",
    "specificity",
    "brier",
    "log_loss",
)
CONSEQUENCE_METRICS: Final[tuple[str, ...]] = (
    "flare_patients_stopped_share",
    "effective_days_lost",
    "progression_delay_days",
    "episodes_deferred_share",
)
SWEEP_METRICS: Final[tuple[str, ...]] = (
    "roc_auc",
    "balanced_accuracy",
    "flare_patients_stopped_share",
    "effective_days_lost",
)
_TITLES = {m: h for m, h, _ in COLUMNS}


def slug(text: str) -> str:
    """A file-name-safe version of a scenario label."""
    keep = [c if c.isalnum() or c in "-_." else "_" for c in text]
    return "".join(keep).strip("_") or "scenario"


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _grid(n: int, width: float = 4.0, height: float = 3.2) -> tuple[Figure, np.ndarray]:
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = _figure(width * cols, height * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def roc_curves(predictions: pd.DataFrame, folder: Path) -> list[Path]:
    """ROC curve per classifier, episodes pooled over replicates; one PNG per scenario."""
    paths = []
    for scenario, part in predictions.groupby("scenario", sort=True, observed=True):
        fig = _figure(5.5, 5)
        ax = fig.subplots()
        for classifier, rows in part.groupby("classifier", sort=True, observed=True):
            y = rows["y"].to_numpy()
            if y.min() == y.max():
                continue  # one class only: no curve
            fpr, tpr, _ = roc_curve(y, rows["p_flare"].to_numpy())
            ax.plot(fpr, tpr, label=str(classifier))  # straight segments: the AUC is their area
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(
            xlabel="1 - specificity (progression called flare)",
            ylabel="sensitivity for flare",
            title=f"ROC, pooled episodes: {scenario}",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.legend(fontsize=7, loc="lower right")
        paths.append(_save(fig, folder / f"roc_{slug(str(scenario))}.png"))
    return paths


def calibration_curves(predictions: pd.DataFrame, folder: Path) -> list[Path]:
    """Observed flare share against mean P(flare) in quantile bins; one PNG per scenario."""
    paths = []
    for scenario, part in predictions.groupby("scenario", sort=True, observed=True):
        fig = _figure(5.5, 5)
        ax = fig.subplots()
        for classifier, rows in part.groupby("classifier", sort=True, observed=True):
            p = rows["p_flare"].to_numpy()
            y = rows["y"].to_numpy()
            observed, predicted = calibration_curve(
                y, p, n_bins=CALIBRATION_BINS, strategy="quantile"
            )
            ax.plot(predicted, observed, marker="o", markersize=3, label=str(classifier))
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(
            xlabel="mean predicted P(flare)",
            ylabel="observed share of flare",
            title=f"Calibration: {scenario}",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.legend(fontsize=7, loc="upper left")
        paths.append(_save(fig, folder / f"calibration_{slug(str(scenario))}.png"))
    return paths


def _boxes(results: pd.DataFrame, metrics: Sequence[str], title: str, path: Path) -> Path | None:
    present = [m for m in metrics if (results["metric"] == m).any()]
    if not present:
        return None
    fig, axes = _grid(len(present))
    classifiers = sorted(results["classifier"].unique())
    for ax, metric in zip(axes, present, strict=False):
        rows = results[results["metric"] == metric]
        data = [rows.loc[rows["classifier"] == c, "value"].dropna().to_numpy() for c in classifiers]
        ax.boxplot(data, showmeans=True)
        ax.set_xticks(np.arange(1, len(classifiers) + 1), classifiers, rotation=45, ha="right")
        ax.set_title(_TITLES.get(metric, metric), fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def distributions(results: pd.DataFrame, folder: Path) -> list[Path]:
    """Box plots of each metric across replicates, per classifier; one PNG per scenario."""
    paths = []
    for scenario, part in results.groupby("scenario", sort=True, observed=True):
        path = _boxes(
            part,
            DISTRIBUTION_METRICS,
            f"Across replicates: {scenario}",
            folder / f"distributions_{slug(str(scenario))}.png",
        )
        if path:
            paths.append(path)
    return paths


def consequences(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """Bar charts of the consequence metrics (mean, 95% interval); one PNG per scenario."""
    paths = []
    for scenario, part in summary.groupby("scenario", sort=True, observed=True):
        present = [m for m in CONSEQUENCE_METRICS if (part["metric"] == m).any()]
        if not present:
            continue
        fig, axes = _grid(len(present), width=4.4)
        for ax, metric in zip(axes, present, strict=False):
            rows = part[part["metric"] == metric].sort_values("classifier")
            mean = rows["mean"].to_numpy(dtype=float)
            low = np.nan_to_num(mean - rows["ci_low"].to_numpy(dtype=float))
            high = np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - mean)
            x = np.arange(len(rows))
            ax.bar(x, np.nan_to_num(mean), yerr=[low, high], capsize=3, color="tab:blue")
            ax.set_xticks(x, rows["classifier"].astype(str), rotation=45, ha="right")
            ax.set_title(_TITLES.get(metric, metric), fontsize=9)
            ax.tick_params(labelsize=7)
        fig.suptitle(f"Consequences for patients: {scenario}", fontsize=10)
        paths.append(_save(fig, folder / f"consequences_{slug(str(scenario))}.png"))
    return paths


def sweeps(summary: pd.DataFrame, points: pd.DataFrame, folder: Path) -> list[Path]:
    """Metrics against each swept parameter (mean, 95% interval), one PNG per grid axis.

    Parameters
    ----------
    summary : DataFrame
        :func:`boneflare.benchmarks.aggregate.summarise` of the results.
    points : DataFrame
        One row per scenario label, one column per swept parameter (its value).
    folder : Path
        Where to write.

    """
    paths = []
    axes_keys = [c for c in points.columns if c != "scenario"]
    for key in axes_keys:
        others = [k for k in axes_keys if k != key]
        merged = summary.merge(points, on="scenario")
        metrics = [m for m in SWEEP_METRICS if (merged["metric"] == m).any()]
        if not metrics or merged[key].nunique() < 2:
            continue
        fig, axes = _grid(len(metrics), width=4.6)
        for ax, metric in zip(axes, metrics, strict=False):
            rows = merged[merged["metric"] == metric]
            for (classifier, *rest), line in rows.groupby(["classifier", *others], sort=True):
                line = line.sort_values(key)
                x = line[key].to_numpy()
                x_plot = x if np.issubdtype(x.dtype, np.number) else np.arange(len(x))
                mean = line["mean"].to_numpy(dtype=float)
                err = np.nan_to_num(
                    [mean - line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float) - mean]
                )
                label = str(classifier) + (
                    " (" + ", ".join(f"{k}={v}" for k, v in zip(others, rest, strict=True)) + ")"
                    if others
                    else ""
                )
                ax.errorbar(
                    x_plot, mean, yerr=err, marker="o", markersize=3, capsize=2, label=label
                )
                if x_plot is not x:
                    ax.set_xticks(x_plot, [str(v) for v in x])
            ax.set(xlabel=key, title=_TITLES.get(metric, metric))
        axes[0].legend(fontsize=6)
        fig.suptitle(f"Sweep over {key}", fontsize=10)
        paths.append(_save(fig, folder / f"sweep_{slug(key)}.png"))
    return paths

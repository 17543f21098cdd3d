"""The leaderboard: per scenario and task, every classifier's metrics as mean ± Monte Carlo SE.

Built on :mod:`boneflare.benchmarks.aggregate` (``summarise``, ``paired_differences``,
``leaderboard``, ``oracle_warnings``, ``deferral_tradeoff``); this module only chooses
the columns and writes them as Markdown (printed by ``boneflare benchmark`` and written
by ``boneflare report``). Tasks come in the order of
:data:`boneflare.simulator.observed.TASKS`: the decision point first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from boneflare.benchmarks.aggregate import (
    deferral_tradeoff,
    leaderboard,
    oracle_warnings,
    paired_differences,
    summarise,
)

COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("roc_auc", "ROC AUC", "{:.3f}"),
    ("sensitivity_flare", "sens. flare", "{:.3f}"),
    ("specificity", "specificity", "{:.3f}"),
    ("balanced_accuracy", "bal. acc.", "{:.3f}"),
    ("brier", "Brier", "{:.3f}"),
    ("log_loss", "log loss", "{:.3f}"),
    ("flare_patients_stopped_share", "flare pts stopped", "{:.3f}"),
    ("effective_days_lost", "days lost", "{:.1f}"),
    ("progression_delay_days", "PD delay (d)", "{:.1f}"),
    ("episodes_deferred_share", "deferred", "{:.3f}"),
    ("fit_seconds", "fit ms", "{:.1f}"),
    ("predict_seconds", "predict ms", "{:.1f}"),
)
"""Leaderboard columns: metric, header, number format (mean and MCSE alike)."""

SCALES: Final[dict[str, float]] = {"fit_seconds": 1000.0, "predict_seconds": 1000.0}
"""Display factors (seconds shown as milliseconds); stored values are unscaled."""

DIFFERENCE_METRICS: Final[tuple[str, ...]] = (
    "roc_auc",
    "balanced_accuracy",
    "brier",
    "flare_patients_stopped_share",
    "effective_days_lost",
    "progression_delay_days",
)
"""Metrics shown as paired differences against the reference classifier."""

SORT_METRIC: Final[str] = "roc_auc"
"""Metric the leaderboard is sorted by (best first)."""


@dataclass
class Summary:
    """Aggregated results of a run.

    Attributes
    ----------
    summary : DataFrame
        :func:`boneflare.benchmarks.aggregate.summarise` of the results.
    board : DataFrame
        :func:`boneflare.benchmarks.aggregate.leaderboard` sorted by :data:`SORT_METRIC`.
    differences : DataFrame or None
        :func:`boneflare.benchmarks.aggregate.paired_differences` against ``reference``.
    reference : str or None
        The reference classifier.
    failures : DataFrame
        Failure records.
    warnings : DataFrame
        :func:`boneflare.benchmarks.aggregate.oracle_warnings` on ROC AUC: classifiers
        beating the oracle by more than 2 Monte Carlo SE (empty when none, or no oracle).
    tradeoff : DataFrame
        :func:`boneflare.benchmarks.aggregate.deferral_tradeoff`: flare patients stopped
        against delay, per classifier and deferral policy, at the decision point.

    """

    summary: pd.DataFrame
    board: pd.DataFrame
    differences: pd.DataFrame | None
    reference: str | None
    failures: pd.DataFrame
    warnings: pd.DataFrame
    tradeoff: pd.DataFrame

    def scopes(self) -> list[tuple[str, str | None]]:
        """(scenario, task) of every leaderboard section, in order (task None: no tasks)."""
        if "task" not in self.board.columns:
            return [(s, None) for s in sorted(self.board["scenario"].unique())]
        keys = self.board[["scenario", "task"]].drop_duplicates()
        keys = keys.sort_values(["scenario", "task"], kind="mergesort")
        return [(str(s), str(t)) for s, t in keys.itertuples(index=False)]


def summarise_run(results: pd.DataFrame, failures: pd.DataFrame, reference: str | None) -> Summary:
    """Aggregate a run's long results across replicates (missing values excluded).

    Parameters
    ----------
    results : DataFrame
        Long results (scenario, classifier, replicate, metric, value).
    failures : DataFrame
        Failure records (shown under the leaderboard).
    reference : str or None
        Classifier of the paired differences (none when absent from the results).

    Returns
    -------
    Summary
        Summary, leaderboard, paired differences and failures.

    """
    summary = summarise(results)
    if (summary["metric"] == SORT_METRIC).any():
        board = leaderboard(summary, SORT_METRIC)
    else:
        board = pd.DataFrame(columns=["scenario", "classifier"])
    differences = None
    if reference is not None and (results["classifier"] == reference).any():
        differences = paired_differences(results, reference)
    warnings = oracle_warnings(results, metric=SORT_METRIC)
    return Summary(
        summary, board, differences, reference, failures, warnings, deferral_tradeoff(summary)
    )


def _part(frame: pd.DataFrame, scenario: str, task: str | None) -> pd.DataFrame:
    """Rows of one scenario (and task, when given)."""
    keep = frame["scenario"] == scenario
    if task is not None:
        keep &= frame["task"].astype(str) == task
    return frame[keep]


def _cell(mean: float, mcse: float, fmt: str, scale: float = 1.0) -> str:
    if mean is None or math.isnan(mean):
        return "n/a"
    text = fmt.format(mean * scale)
    if mcse is not None and not math.isnan(mcse):
        text += " ± " + fmt.format(mcse * scale)
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table with columns padded to a common width (readable as plain text)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return [line, rule, *body]


def board_rows(
    board: pd.DataFrame, scenario: str, task: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one scenario's (and task's) leaderboard (columns of the run only)."""
    part = _part(board, scenario, task)
    present = [(m, h, f) for m, h, f in COLUMNS if f"{m}_mean" in part.columns]
    header = ["classifier", *(h for _, h, _ in present)]
    rows = [
        [
            str(r["classifier"]),
            *(_cell(r[f"{m}_mean"], r[f"{m}_mcse"], f, SCALES.get(m, 1.0)) for m, _, f in present),
        ]
        for _, r in part.iterrows()
    ]
    return header, rows


def difference_rows(
    differences: pd.DataFrame, scenario: str, task: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of paired differences (mean and 95% interval) for one scenario, task."""
    part = _part(differences, scenario, task)
    formats = {m: f for m, _, f in COLUMNS}
    headers = {m: h for m, h, _ in COLUMNS}
    metrics = [m for m in DIFFERENCE_METRICS if (part["metric"] == m).any()]
    header = ["classifier", *(f"Δ {headers[m]}" for m in metrics)]
    rows = []
    for classifier in sorted(part["classifier"].unique()):
        row = [str(classifier)]
        for m in metrics:
            hit = part[(part["classifier"] == classifier) & (part["metric"] == m)]
            r = hit.iloc[0]
            fmt = formats[m]
            if math.isnan(r["mean"]):
                row.append("n/a")
            elif math.isnan(r["ci_low"]):
                row.append(fmt.format(r["mean"]))
            else:
                low, high = fmt.format(r["ci_low"]), fmt.format(r["ci_high"])
                row.append(f"{fmt.format(r['mean'])} [{low}, {high}]")
        rows.append(row)
    return header, rows


def prevalence(summary: pd.DataFrame, scenario: str, task: str | None = None) -> str:
    """Episodes per cohort and the flare share among them (pooled), as a short phrase.

    Every classifier is scored on the same episodes, so the first one's counts serve.
    Empty when the run holds no counts.
    """
    part = _part(summary, scenario, task)
    means = part.groupby("metric", observed=True)["mean"].first()
    if "n_episodes" not in means or "n_flare" not in means or not means["n_episodes"] > 0:
        return ""
    share = means["n_flare"] / means["n_episodes"]
    return f"; {means['n_episodes']:.1f} episodes per cohort, flare share {share:.3f}"


def tradeoff_rows(
    tradeoff: pd.DataFrame, scenario: str, task: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the deferral trade-off (mean ± MCSE) for one scenario, task."""
    part = _part(tradeoff, scenario, task)
    header = ["classifier", "policy", "flare pts stopped", "PD delay (d)", "deferred"]
    columns = (
        ("flare_patients_stopped_share", "{:.3f}"),
        ("progression_delay_days", "{:.1f}"),
        ("episodes_deferred_share", "{:.3f}"),
    )
    rows = [
        [
            str(r["classifier"]),
            str(r["policy"]),
            *(_cell(r[f"{m}_mean"], r[f"{m}_mcse"], f) for m, f in columns),
        ]
        for _, r in part.iterrows()
    ]
    return header, rows


def warning_line(warnings: pd.DataFrame) -> str | None:
    """One line naming the classifiers that beat the oracle by more than 2 MCSE, or None."""
    if warnings is None or warnings.empty:
        return None
    items = []
    for _, r in warnings.iterrows():
        where = str(r["scenario"]) + (f"/{r['task']}" if "task" in warnings.columns else "")
        items.append(f"{r['classifier']} on {where} (+{r['mean']:.3f} ± {r['mcse']:.3f})")
    return f"Warning: beats the oracle's {SORT_METRIC} by more than 2 Monte Carlo SE: " + "; ".join(
        items
    )


def failure_lines(failures: pd.DataFrame) -> list[str]:
    """One line per (classifier, stage, message): how many units it failed in."""
    if failures is None or failures.empty:
        return []
    lines = []
    grouped = failures.groupby(["classifier", "stage", "message"], sort=True, observed=True)
    for (classifier, stage, message), rows in grouped:
        units = rows["unit"].nunique()
        lines.append(f"- {classifier} failed in {stage} ({units} unit(s)): {message}")
    return lines


def leaderboard_markdown(summary: Summary, title: str = "Leaderboard") -> str:
    """Return the leaderboard of every scenario and task, differences, trade-off, failures.

    Parameters
    ----------
    summary : Summary
        From :func:`summarise_run`.
    title : str
        Top heading.

    Returns
    -------
    str
        Markdown text; its tables are padded so that it also reads as plain text. The
        decision-point task comes first in every scenario.

    """
    out = [f"# {title}", ""]
    out.append(
        "Mean ± Monte Carlo standard error across replicates; missing values (e.g. AUC in a "
        f"cohort without flare) are excluded. Sorted by {SORT_METRIC}, best first."
    )
    warning = warning_line(summary.warnings)
    if warning:
        out += ["", warning]
    for scenario, task in summary.scopes():
        header, rows = board_rows(summary.board, scenario, task)
        n = _part(summary.summary, scenario, task)["n"].max()
        name = scenario if task is None else f"{scenario}: {task}"
        counts = prevalence(summary.summary, scenario, task)
        out += ["", f"## {name} ({int(n)} replicates{counts})", "", *_table(header, rows)]
        if summary.differences is not None and len(summary.differences):
            header, rows = difference_rows(summary.differences, scenario, task)
            if rows:
                out += [
                    "",
                    f"Paired differences against {summary.reference} (mean [95% interval]):",
                    "",
                    *_table(header, rows),
                ]
        header, rows = tradeoff_rows(summary.tradeoff, scenario, task)
        if rows:
            out += [
                "",
                "Deferral at the decision point: flare patients stopped against days of delay "
                "before true progression is acted on (call: the single-scan call; "
                "defer_uncertain, defer_all: wait for the next CT):",
                "",
                *_table(header, rows),
            ]
    lines = failure_lines(summary.failures)
    if lines:
        out += ["", "## Failures", "", *lines]
    return "\n".join(out) + "\n"

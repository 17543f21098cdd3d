"""The headline table of a run: decision-point ROC AUC per classifier, against the oracle.

``python -m boneflare.benchmarks.report.headline RUN_DIR`` prints, for every scenario
of a finished benchmark run, the episodes per cohort and their flare share at the
decision point, and each classifier's mean ROC AUC ± Monte Carlo SE with its paired
difference from ``bayes_oracle`` (mean ± MCSE): the table docs/results.md quotes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pandas as pd

from boneflare.benchmarks.aggregate import ORACLE, paired_differences, summarise
from boneflare.simulator.observed import TASKS

HEADLINE_TASK = TASKS[0]
"""The task of the headline table (the decision point)."""


def headline_table(results: pd.DataFrame, task: str = HEADLINE_TASK) -> str:
    """Markdown of the decision-point ROC AUC of every classifier, per scenario.

    Parameters
    ----------
    results : DataFrame
        A run's long results (with a ``task`` column).
    task : str
        The task to show (default the decision point).

    Returns
    -------
    str
        Per scenario: a heading with the replicates, episodes per cohort and flare
        share, then one row per classifier, best first: ROC AUC mean ± MCSE, and its
        paired difference from the oracle when the oracle was run.

    """
    part = results[results["task"].astype(str) == task]
    if part.empty:
        return f"no results of task {task!r}\n"
    summary = summarise(part)
    oracle_run = (part["classifier"] == ORACLE).any()
    differences = paired_differences(part, ORACLE) if oracle_run else None
    out = []
    for scenario, rows in summary.groupby("scenario", sort=True, observed=True):
        means = rows.pivot(index="classifier", columns="metric", values="mean")
        mcses = rows.pivot(index="classifier", columns="metric", values="mcse")
        n = int(rows["n"].max())
        episodes, flares = means["n_episodes"].iloc[0], means["n_flare"].iloc[0]
        out += [
            f"## {scenario}: {task} ({n} replicates; {episodes:.1f} episodes per cohort, "
            f"flare share {flares / episodes:.3f})",
            "",
            "| classifier | ROC AUC | minus bayes_oracle (paired) |",
            "| --- | --- | --- |",
        ]
        for classifier in means["roc_auc"].sort_values(ascending=False).index:
            auc = f"{means.loc[classifier, 'roc_auc']:.3f} ± {mcses.loc[classifier, 'roc_auc']:.3f}"
            gap = ""
            if differences is not None and classifier != ORACLE:
                d = differences[
                    (differences["scenario"] == scenario)
                    & (differences["classifier"] == classifier)
                    & (differences["metric"] == "roc_auc")
                ].iloc[0]
                gap = f"{d['mean']:+.4f} ± {d['mcse']:.4f}"
            out.append(f"| `{classifier}` | {auc} | {gap} |")
        out.append("")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the headline table of the run folder given as the only argument."""
    from boneflare.benchmarks.harness.store import RunStore
    from boneflare.simulator.errors import BoneflareError

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m boneflare.benchmarks.report.headline RUN_DIR", file=sys.stderr)
        return 2
    try:
        tables = RunStore(args[0]).load()
    except BoneflareError as exc:
        print(f"boneflare: {exc}", file=sys.stderr)
        return 2
    print(headline_table(tables["results"]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

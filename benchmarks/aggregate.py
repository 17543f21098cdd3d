"""Aggregate per-replicate benchmark results across simulation replicates.

The input everywhere is a *long* results table with one row per
(``scenario``, ``task``, ``classifier``, ``replicate``, ``metric``) and a float
``value`` that may be NaN when the metric is undefined for that replicate
(e.g. ROC AUC in a cohort without flare). Missing values are excluded from
every summary and counted in ``n_missing``; they are never treated as 0.
The ``task`` column (:data:`boneflare.simulator.observed.TASKS`) may be absent, for
a table of one task; where present, every task is summarised on its own, and tasks
are listed in the order of ``TASKS`` (the headline task first).

Performance measures and their Monte Carlo standard errors follow
White IR, "simsum: Analyses of simulation studies including Monte Carlo
error", Stata Journal 2010;10(3):369-385 (and its R port ``rsimsum``), and
Morris TP, White IR, Crowther MJ, "Using simulation studies to evaluate
statistical methods", Statistics in Medicine 2019;38:2074-2102.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

from boneflare.benchmarks.metrics import (
    DEFERRAL_POLICIES,
    METRIC_DIRECTIONS,
    TRADEOFF_METRICS,
    policy_metric,
)
from boneflare.simulator.observed import TASKS

__all__ = [
    "deferral_tradeoff",
    "leaderboard",
    "oracle_warnings",
    "paired_differences",
    "summarise",
]

ORACLE: Final[str] = "bayes_oracle"
"""The classifier whose performance is the ceiling (:mod:`boneflare.classifiers.oracle`)."""

WARNING_SE: Final[float] = 2.0
"""A classifier beating the oracle by more than this many paired Monte Carlo SEs is flagged."""

RESULT_COLUMNS: Final[tuple[str, ...]] = ("scenario", "classifier", "replicate", "metric", "value")
"""Columns required in a long results table (``task`` is optional)."""

TASK_COLUMN: Final[str] = "task"
"""Optional column naming the scored task of a row."""

_STAT_COLUMNS: Final[list[str]] = ["n", "n_missing", "mean", "sd", "mcse", "ci_low", "ci_high"]
_CONFIDENCE: Final[float] = 0.95


def _scope(frame: pd.DataFrame) -> list[str]:
    """Columns within which results are summarised: scenario, and task when present."""
    return ["scenario", TASK_COLUMN] if TASK_COLUMN in frame.columns else ["scenario"]


def _keys(frame: pd.DataFrame) -> list[str]:
    """Columns identifying one value: the scope, classifier, replicate, metric."""
    return [*_scope(frame), "classifier", "replicate", "metric"]


def _group(frame: pd.DataFrame) -> list[str]:
    """Columns of one summary row: the scope, classifier, metric."""
    return [*_scope(frame), "classifier", "metric"]


def task_order(tasks: pd.Series) -> pd.Series:
    """Tasks as an ordered categorical: those of ``TASKS`` first, in that order, then others.

    Parameters
    ----------
    tasks : pandas.Series
        Task names.

    Returns
    -------
    pandas.Series
        The same values, ordered so that sorting lists the headline task first.

    """
    names = [str(t) for t in pd.unique(tasks)]
    categories = [t for t in TASKS if t in names] + sorted(t for t in names if t not in TASKS)
    return pd.Series(
        pd.Categorical(tasks.astype(str), categories=categories, ordered=True), index=tasks.index
    )


def _check_columns(frame: pd.DataFrame, required: Sequence[str], name: str) -> None:
    """Raise if ``frame`` is not a DataFrame holding ``required`` columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table to check.
    required : sequence of str
        Column names that must be present.
    name : str
        How to refer to ``frame`` in the error message.

    Raises
    ------
    ValueError
        If ``frame`` is not a DataFrame or misses a column.

    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s): {', '.join(missing)}")


def _validate_results(results: pd.DataFrame) -> pd.DataFrame:
    """Check a long results table and return a clean copy of its key columns.

    Parameters
    ----------
    results : pandas.DataFrame
        Long results table (see module docstring).

    Returns
    -------
    pandas.DataFrame
        Copy with exactly :data:`RESULT_COLUMNS` (and ``task``, as an ordered
        categorical, when present), ``value`` as float64.

    Raises
    ------
    ValueError
        If a column is missing, a key column holds missing values, ``value``
        is not numeric, or a (scenario, [task,] classifier, replicate, metric) key
        occurs more than once.

    """
    _check_columns(results, RESULT_COLUMNS, "results")
    keys = _keys(results)
    out = results.loc[:, [*keys, "value"]].copy()
    for col in keys:
        if out[col].isna().any():
            raise ValueError(f"results column {col!r} contains missing values")
    try:
        out["value"] = pd.to_numeric(out["value"], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"results column 'value' must be numeric ({exc})") from None
    if TASK_COLUMN in out.columns:
        out[TASK_COLUMN] = task_order(out[TASK_COLUMN])
    duplicated = out.duplicated(subset=keys, keep=False)
    if duplicated.any():
        first = out.loc[duplicated, keys].iloc[0].to_dict()
        raise ValueError(
            f"results has {int(duplicated.sum())} rows with a repeated "
            f"({', '.join(keys)}) key, e.g. {first}"
        )
    return out


def _describe(frame: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean, SD, Monte Carlo SE and t-interval of ``value`` within groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table with the grouping columns and a float column ``value``.
    by : list of str
        Grouping columns.
    value : str
        Column to summarise; NaN entries are excluded and counted.

    Returns
    -------
    pandas.DataFrame
        One row per group with columns ``by`` followed by ``n``, ``n_missing``,
        ``mean``, ``sd``, ``mcse``, ``ci_low`` and ``ci_high``.

    """
    grouped = frame.groupby(by, sort=True, observed=True, dropna=False)[value]
    out = grouped.agg(n="count", size="size", mean="mean", sd="std").reset_index()
    n = out["n"].to_numpy(dtype=np.int64)
    out["n"] = n
    out["n_missing"] = out.pop("size").to_numpy(dtype=np.int64) - n
    sd = out["sd"].to_numpy(dtype=np.float64)
    mean = out["mean"].to_numpy(dtype=np.float64)
    enough = n >= 2
    mcse = np.full(n.shape, np.nan)
    np.divide(sd, np.sqrt(n, dtype=np.float64), out=mcse, where=enough)
    df = np.where(enough, n - 1, np.nan).astype(np.float64)
    t_crit = stats.t.ppf(0.5 + _CONFIDENCE / 2.0, df)
    out["sd"] = np.where(enough, sd, np.nan)
    out["mcse"] = mcse
    out["ci_low"] = np.where(enough, mean - t_crit * mcse, np.nan)
    out["ci_high"] = np.where(enough, mean + t_crit * mcse, np.nan)
    return out.loc[:, [*by, *_STAT_COLUMNS]]


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Summarise each (scenario, task, classifier, metric) across replicates.

    Parameters
    ----------
    results : pandas.DataFrame
        Long table with columns ``scenario`` (str), optionally ``task`` (str),
        ``classifier`` (str),
        ``replicate`` (int), ``metric`` (str) and ``value`` (float, may be
        NaN). Each (scenario, [task,] classifier, replicate, metric) must occur once.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, [task,] classifier, metric), sorted by those keys
        (tasks in the order of ``TASKS``), with
        columns:

        ``n``
            Replicates with a non-missing value.
        ``n_missing``
            Replicates whose value is NaN (excluded, never counted as 0).
        ``mean``
            Mean over the ``n`` non-missing values (NaN if ``n == 0``).
        ``sd``
            Sample standard deviation (``ddof=1``); NaN if ``n < 2``.
        ``mcse``
            Monte Carlo standard error of the mean, ``sd / sqrt(n)``, as in
            White (2010) ``simsum`` / ``rsimsum`` and Morris, White & Crowther
            (2019), Table 6; NaN if ``n < 2``.
        ``ci_low``, ``ci_high``
            ``mean -/+ t_{0.975, n-1} * mcse``, a 95% t-interval for the
            expected value of the metric over replicates; NaN if ``n < 2``.

    Raises
    ------
    ValueError
        If a required column is missing, a key is missing or duplicated, or
        ``value`` is not numeric.

    References
    ----------
    White IR. simsum: Analyses of simulation studies including Monte Carlo
    error. Stata Journal 2010;10(3):369-385.

    Morris TP, White IR, Crowther MJ. Using simulation studies to evaluate
    statistical methods. Stat Med 2019;38(11):2074-2102.

    """
    clean = _validate_results(results)
    return _describe(clean, _group(clean), "value")


def paired_differences(results: pd.DataFrame, reference: str = "recist_naive") -> pd.DataFrame:
    """Difference of every classifier from a reference, paired within replicate.

    Because all classifiers are scored on the same simulated cohorts, the
    within-replicate difference removes the cohort-to-cohort variation the
    classifiers share; its Monte Carlo SE is therefore usually far smaller
    than one computed from the two marginal SEs (Morris, White & Crowther
    2019, section 5.2, on comparing methods with correlated estimates).

    Parameters
    ----------
    results : pandas.DataFrame
        Long results table, as for :func:`summarise`.
    reference : str, default "recist_naive"
        Classifier subtracted from every other classifier.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, [task,] classifier, metric) for every classifier other
        than ``reference``, sorted by those keys, with columns ``scenario``, ``task``
        (when present),
        ``classifier``, ``reference``, ``metric`` and the statistics of
        :func:`summarise` (``n``, ``n_missing``, ``mean``, ``sd``, ``mcse``,
        ``ci_low``, ``ci_high``) computed over the differences
        ``value(classifier) - value(reference)`` of the same replicate.
        Only replicates in which both values are non-missing contribute
        (``n``); ``n_missing`` counts the replicates recorded for either of the
        two (in that scenario, task and metric) for which no difference could be
        formed. Where the reference lacks the metric in a scenario, ``n`` is 0
        and the statistics are NaN.

    Raises
    ------
    ValueError
        If ``reference`` does not occur in ``results["classifier"]``, or the
        table is malformed (see :func:`summarise`).

    References
    ----------
    White IR. simsum: Analyses of simulation studies including Monte Carlo
    error. Stata Journal 2010;10(3):369-385.

    Morris TP, White IR, Crowther MJ. Using simulation studies to evaluate
    statistical methods. Stat Med 2019;38(11):2074-2102.

    """
    clean = _validate_results(results)
    is_ref = clean["classifier"] == reference
    if not is_ref.any():
        available = ", ".join(sorted(map(str, clean["classifier"].unique())))
        raise ValueError(
            f"reference classifier {reference!r} not found in results "
            f"(classifiers present: {available or 'none'})"
        )
    scope, group = _scope(clean), _group(clean)
    ref = clean.loc[is_ref, [*scope, "replicate", "metric", "value"]]
    ref = ref.rename(columns={"value": "reference_value"})
    others = clean.loc[~is_ref]

    # Give every (scope, classifier, metric) its own copy of the reference
    # series, then outer-join so replicates present on either side are counted.
    combos = others.loc[:, group].drop_duplicates()
    ref_per_classifier = combos.merge(ref, on=[*scope, "metric"], how="inner")
    paired = others.merge(ref_per_classifier, on=_keys(clean), how="outer")
    paired["difference"] = paired["value"] - paired["reference_value"]

    if paired.empty:
        out = pd.DataFrame(columns=[*group, *_STAT_COLUMNS])
    else:
        out = _describe(paired, group, "difference")
    out.insert(len(scope) + 1, "reference", reference)
    return out.reset_index(drop=True)


def leaderboard(summary: pd.DataFrame, metric: str = "roc_auc") -> pd.DataFrame:
    """Rank classifiers within each scenario (and task) on one summarised metric.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise` (at least ``scenario``, ``classifier``,
        ``metric``, ``mean`` and ``mcse``).
    metric : str, default "roc_auc"
        Metric to sort by; must be present in ``summary`` and have direction
        ``"higher"`` or ``"lower"`` in
        :data:`boneflare.benchmarks.metrics.METRIC_DIRECTIONS`.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, [task,] classifier) with columns ``scenario``,
        ``task`` (when present),
        ``classifier``, then ``<m>_mean`` and ``<m>_mcse`` for every metric
        ``m`` in ``summary`` (the sort metric first, the others in
        alphabetical order). Rows are sorted by scenario, then by task (in the
        order of ``TASKS``, the headline first), then by
        ``<metric>_mean`` best first (descending if higher is better,
        ascending if lower is better) with NaN last, then by classifier name.

    Raises
    ------
    ValueError
        If ``summary`` lacks a required column or has a repeated
        (scenario, classifier, metric) row, if ``metric`` is absent from it,
        or if ``metric`` has no better direction.

    """
    _check_columns(summary, ("scenario", "classifier", "metric", "mean", "mcse"), "summary")
    scope, group = _scope(summary), _group(summary)
    direction = METRIC_DIRECTIONS.get(metric)
    if direction is None:
        raise ValueError(f"metric {metric!r} has no known direction in METRIC_DIRECTIONS")
    if direction not in ("higher", "lower"):
        raise ValueError(f"metric {metric!r} is neutral (direction {direction!r}); cannot rank")
    if not (summary["metric"] == metric).any():
        raise ValueError(f"metric {metric!r} not found in summary")
    if summary.duplicated(subset=group).any():
        raise ValueError(f"summary has repeated ({', '.join(group)}) rows")

    wide = summary.pivot(index=[*scope, "classifier"], columns="metric", values=["mean", "mcse"])
    metrics = [
        metric,
        *sorted(m for m in wide.columns.get_level_values("metric").unique() if m != metric),
    ]
    columns: dict[str, pd.Series] = {}
    for m in metrics:
        columns[f"{m}_mean"] = wide[("mean", m)]
        columns[f"{m}_mcse"] = wide[("mcse", m)]
    board = pd.DataFrame(columns, index=wide.index).reset_index()
    board.columns.name = None

    if TASK_COLUMN in board.columns:
        board[TASK_COLUMN] = task_order(board[TASK_COLUMN])
    board = board.sort_values(
        by=[*scope, f"{metric}_mean", "classifier"],
        ascending=[*(True for _ in scope), direction == "lower", True],
        na_position="last",
        kind="mergesort",
    )
    return board.reset_index(drop=True)


def oracle_warnings(
    results: pd.DataFrame,
    oracle: str = ORACLE,
    metric: str = "roc_auc",
    z: float = WARNING_SE,
) -> pd.DataFrame:
    """Classifiers that beat the oracle on ``metric`` by more than ``z`` Monte Carlo SEs.

    The oracle approximates the best possible classifier, so a classifier clearly
    better than it says the oracle is not a ceiling in that scenario (too little
    training data, or features that miss a cue). The comparison is paired within
    replicate (:func:`paired_differences`), per scenario and task.

    Parameters
    ----------
    results : pandas.DataFrame
        Long results table, as for :func:`summarise`.
    oracle : str, default "bayes_oracle"
        The ceiling classifier; without it in ``results`` the answer is empty.
    metric : str, default "roc_auc"
        Metric compared; its direction comes from ``METRIC_DIRECTIONS``.
    z : float, default 2.0
        Flag when the mean paired difference exceeds ``z`` times its MCSE.

    Returns
    -------
    pandas.DataFrame
        One row per flagged (scenario, [task,] classifier): the scope columns,
        ``classifier``, ``metric``, ``mean`` (classifier minus oracle) and ``mcse``.

    """
    clean = _validate_results(results)
    columns = [*_scope(clean), "classifier", "metric", "mean", "mcse"]
    direction = METRIC_DIRECTIONS.get(metric)
    if direction not in ("higher", "lower"):
        raise ValueError(f"metric {metric!r} has no better direction in METRIC_DIRECTIONS")
    # Differences are paired within metric: only this metric's rows are needed.
    clean = clean[clean["metric"] == metric]
    if not (clean["classifier"] == oracle).any():
        return pd.DataFrame(columns=columns)
    diffs = paired_differences(clean, oracle)
    sign = 1.0 if direction == "higher" else -1.0
    beats = (sign * diffs["mean"] > z * diffs["mcse"]) & (diffs["mcse"] >= 0)
    return diffs.loc[beats, columns].reset_index(drop=True)


def deferral_tradeoff(summary: pd.DataFrame) -> pd.DataFrame:
    """The deferral trade-off of every classifier and policy, from a summary.

    For each policy of ``DEFERRAL_POLICIES`` (the classifier's own single-scan call, and
    deferral to the next CT), the share of flare patients stopped against the days of
    delay before a true progression is acted on (docs/results.md, "Deferral").

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, [task,] classifier, policy) that has the trade-off
        metrics, with ``<m>_mean`` and ``<m>_mcse`` for ``m`` in ``TRADEOFF_METRICS``;
        sorted by scope, classifier, then policy in the order of ``DEFERRAL_POLICIES``.
        Only scopes that hold a deferral policy's metrics (the decision point) appear.

    """
    _check_columns(summary, ("scenario", "classifier", "metric", "mean", "mcse"), "summary")
    scope = _scope(summary)
    deferring = summary["metric"].isin(
        [policy_metric(m, p) for m in TRADEOFF_METRICS for p in DEFERRAL_POLICIES[1:]]
    )
    if "n" in summary.columns:  # a classifier never scored (its rows all NaN) has none
        deferring &= summary["n"] > 0
    keys = summary.loc[deferring, [*scope, "classifier"]].drop_duplicates()
    rows = []
    for policy in DEFERRAL_POLICIES:
        names = {policy_metric(m, policy): m for m in TRADEOFF_METRICS}
        part = summary[summary["metric"].isin(list(names))].merge(keys, on=[*scope, "classifier"])
        wide = part.assign(metric=part["metric"].map(names)).pivot(
            index=[*scope, "classifier"], columns="metric", values=["mean", "mcse"]
        )
        table = pd.DataFrame(index=wide.index)
        for m in TRADEOFF_METRICS:
            for stat in ("mean", "mcse"):
                key = (stat, m)
                table[f"{m}_{stat}"] = wide[key] if key in wide.columns else np.nan
        rows.append(table.reset_index().assign(policy=policy))
    columns = [*scope, "classifier", "policy"]
    out = pd.concat(rows, ignore_index=True)
    if out.empty:
        return out.reindex(columns=[*columns, *(c for c in out.columns if c not in columns)])
    out["policy"] = pd.Categorical(out["policy"], categories=DEFERRAL_POLICIES, ordered=True)
    out = out.sort_values([*scope, "classifier", "policy"], kind="mergesort")
    rest = [c for c in out.columns if c not in columns]
    return out.loc[:, [*columns, *rest]].reset_index(drop=True)

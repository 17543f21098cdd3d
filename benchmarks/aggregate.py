"""Aggregate per-replicate benchmark results across simulation replicates.

The input everywhere is a *long* results table with one row per
(``scenario``, ``classifier``, ``replicate``, ``metric``) and a float
``value`` that may be NaN when the metric is undefined for that replicate
(e.g. ROC AUC in a cohort without flare). Missing values are excluded from
every summary and counted in ``n_missing``; they are never treated as 0.

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

from boneflare.benchmarks.metrics import METRIC_DIRECTIONS

__all__ = ["leaderboard", "paired_differences", "summarise"]

RESULT_COLUMNS: Final[tuple[str, ...]] = ("scenario", "classifier", "replicate", "metric", "value")
"""Columns required in a long results table."""

_KEYS: Final[list[str]] = ["scenario", "classifier", "replicate", "metric"]
_GROUP: Final[list[str]] = ["scenario", "classifier", "metric"]
_STAT_COLUMNS: Final[list[str]] = ["n", "n_missing", "mean", "sd", "mcse", "ci_low", "ci_high"]
_CONFIDENCE: Final[float] = 0.95


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
        Copy with exactly :data:`RESULT_COLUMNS`, ``value`` as float64.

    Raises
    ------
    ValueError
        If a column is missing, a key column holds missing values, ``value``
        is not numeric, or a (scenario, classifier, replicate, metric) key
        occurs more than once.

    """
    _check_columns(results, RESULT_COLUMNS, "results")
    out = results.loc[:, list(RESULT_COLUMNS)].copy()
    for col in _KEYS:
        if out[col].isna().any():
            raise ValueError(f"results column {col!r} contains missing values")
    try:
        out["value"] = pd.to_numeric(out["value"], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"results column 'value' must be numeric ({exc})") from None
    duplicated = out.duplicated(subset=_KEYS, keep=False)
    if duplicated.any():
        first = out.loc[duplicated, _KEYS].iloc[0].to_dict()
        raise ValueError(
            f"results has {int(duplicated.sum())} rows with a repeated "
            f"(scenario, classifier, replicate, metric) key, e.g. {first}"
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
    """Summarise each (scenario, classifier, metric) across replicates.

    Parameters
    ----------
    results : pandas.DataFrame
        Long table with columns ``scenario`` (str), ``classifier`` (str),
        ``replicate`` (int), ``metric`` (str) and ``value`` (float, may be
        NaN). Each (scenario, classifier, replicate, metric) must occur once.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, classifier, metric), sorted by those keys, with
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
    return _describe(clean, _GROUP, "value")


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
        One row per (scenario, classifier, metric) for every classifier other
        than ``reference``, sorted by those keys, with columns ``scenario``,
        ``classifier``, ``reference``, ``metric`` and the statistics of
        :func:`summarise` (``n``, ``n_missing``, ``mean``, ``sd``, ``mcse``,
        ``ci_low``, ``ci_high``) computed over the differences
        ``value(classifier) - value(reference)`` of the same replicate.
        Only replicates in which both values are non-missing contribute
        (``n``); ``n_missing`` counts the replicates recorded for either of the
        two (in that scenario and metric) for which no difference could be
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
    ref = clean.loc[is_ref, ["scenario", "replicate", "metric", "value"]]
    ref = ref.rename(columns={"value": "reference_value"})
    others = clean.loc[~is_ref]

    # Give every (scenario, classifier, metric) its own copy of the reference
    # series, then outer-join so replicates present on either side are counted.
    combos = others.loc[:, _GROUP].drop_duplicates()
    ref_per_classifier = combos.merge(ref, on=["scenario", "metric"], how="inner")
    paired = others.merge(ref_per_classifier, on=_KEYS, how="outer")
    paired["difference"] = paired["value"] - paired["reference_value"]

    if paired.empty:
        out = pd.DataFrame(columns=[*_GROUP, *_STAT_COLUMNS])
    else:
        out = _describe(paired, _GROUP, "difference")
    out.insert(2, "reference", reference)
    return out.reset_index(drop=True)


def leaderboard(summary: pd.DataFrame, metric: str = "roc_auc") -> pd.DataFrame:
    """Rank classifiers within each scenario on one summarised metric.

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
        One row per (scenario, classifier) with columns ``scenario``,
        ``classifier``, then ``<m>_mean`` and ``<m>_mcse`` for every metric
        ``m`` in ``summary`` (the sort metric first, the others in
        alphabetical order). Rows are sorted by scenario, then by
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
    direction = METRIC_DIRECTIONS.get(metric)
    if direction is None:
        raise ValueError(f"metric {metric!r} has no known direction in METRIC_DIRECTIONS")
    if direction not in ("higher", "lower"):
        raise ValueError(f"metric {metric!r} is neutral (direction {direction!r}); cannot rank")
    if not (summary["metric"] == metric).any():
        raise ValueError(f"metric {metric!r} not found in summary")
    if summary.duplicated(subset=_GROUP).any():
        raise ValueError("summary has repeated (scenario, classifier, metric) rows")

    wide = summary.pivot(
        index=["scenario", "classifier"], columns="metric", values=["mean", "mcse"]
    )
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

    board = board.sort_values(
        by=["scenario", f"{metric}_mean", "classifier"],
        ascending=[True, direction == "lower", True],
        na_position="last",
        kind="mergesort",
    )
    return board.reset_index(drop=True)

"""The leaderboard's content: per task and scenario, the ranked classifiers and the ceiling.

Built on :mod:`boneflare.benchmarks.aggregate` (``summarise``, ``paired_differences``,
``leaderboard``); :mod:`boneflare.benchmarks.report.formats` writes it as a text table,
Markdown, CSV or JSON. Nothing here computes a metric: every number is a summary of the
long results across replicates.

A run scored on several tasks (a ``task`` column in the results) is summarised per
task, the decision point first. A classifier that trains on the test scenario's truth
(``trains_on_test_scenario``, the Bayes oracle) is the *ceiling*: shown apart from the
ranking, and a classifier that beats it by more than two Monte Carlo SE is named in a
warning, since that says the ceiling is not one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from boneflare.benchmarks.aggregate import (
    WARNING_SE,
    leaderboard,
    oracle_warnings,
    paired_differences,
    summarise,
)
from boneflare.benchmarks.report.choices import DEFAULT_COLUMNS, SORT_METRIC
from boneflare.benchmarks.report.glossary import info
from boneflare.simulator.observed import TASKS

DIFFERENCE_METRICS: Final[tuple[str, ...]] = DEFAULT_COLUMNS
"""Metrics shown as paired differences against the reference classifier."""


def ordered_tasks(tasks: Sequence[str]) -> list[str]:
    """Tasks in display order: the decision point, all episodes, then any other by name."""
    known = [t for t in TASKS if t in tasks]
    return known + sorted(t for t in set(tasks) if t not in TASKS)


def by_task(frame: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Split a table with an optional ``task`` column, in display order ("" if no column)."""
    if "task" not in frame.columns:
        yield "", frame
        return
    for task in ordered_tasks(list(frame["task"].astype(str).unique())):
        yield task, frame[frame["task"].astype(str) == task].drop(columns="task")


def _with_task(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "task", task)
    return out


@dataclass
class Summary:
    """Aggregated results of a run, per task.

    Attributes
    ----------
    summary : DataFrame
        :func:`boneflare.benchmarks.aggregate.summarise` per task, with a leading
        ``task`` column (``""`` when the run has no tasks).
    differences : DataFrame or None
        Paired differences against ``reference``, with ``task``.
    reference : str or None
        The reference classifier of the paired differences.
    failures : DataFrame
        Failure records.
    ceilings : tuple of str
        Classifiers shown as a ceiling, apart from the ranking.
    scored : DataFrame
        ``task, scenario, classifier, replicates``: replicates with any result.
    planned : int or None
        Replicates planned per scenario (``None``: unknown).
    sort_by : str
        Metric the rows are ranked by.
    warnings : list of str
        Classifiers that beat the ceiling by more than
        :data:`~boneflare.benchmarks.aggregate.WARNING_SE` Monte Carlo SE.

    """

    summary: pd.DataFrame
    differences: pd.DataFrame | None
    reference: str | None
    failures: pd.DataFrame
    ceilings: tuple[str, ...] = ()
    scored: pd.DataFrame = field(default_factory=pd.DataFrame)
    planned: int | None = None
    sort_by: str = SORT_METRIC
    warnings: list[str] = field(default_factory=list)


@dataclass
class Board:
    """The leaderboard of one task and scenario.

    Attributes
    ----------
    task : str
        Task name (``""`` when the run has no tasks).
    scenario : str
        Scenario label.
    ranked : list of str
        Classifiers other than the ceiling, best first on the sort metric.
    ceiling : list of str
        Ceiling classifiers present in this scenario.
    stats : DataFrame
        Summary rows of this task and scenario, indexed by (classifier, metric).
    scored : dict of str to int
        Replicates with results, per classifier.
    planned : int or None
        Replicates planned.

    """

    task: str
    scenario: str
    ranked: list[str]
    ceiling: list[str]
    stats: pd.DataFrame
    scored: dict[str, int]
    planned: int | None

    @property
    def title(self) -> str:
        """``"paper, decision_point"`` (the task only when there is one)."""
        return f"{self.scenario}, {self.task}" if self.task else self.scenario

    @property
    def order(self) -> list[str]:
        """Every classifier in display order: the ranked ones, best first, then the ceiling."""
        return [*self.ranked, *self.ceiling]

    @property
    def where(self) -> str:
        """How figure titles and captions name the board: ``"paper, task decision_point"``."""
        return f"{self.scenario}, task {self.task}" if self.task else self.scenario

    def figure_stem(self, kind: str) -> str:
        """File stem of the board's ``kind`` figure: ``<kind>_<scenario>[_<task>]``."""
        from boneflare.benchmarks.report.style import slug

        return f"{kind}_{slug(self.scenario)}" + (f"_{slug(self.task)}" if self.task else "")

    @property
    def replicates(self) -> int:
        """Largest number of replicates any classifier was scored in."""
        return max(self.scored.values(), default=0)

    def incomplete(self, classifier: str) -> bool:
        """Whether ``classifier`` was scored in fewer replicates than planned."""
        planned = self.planned if self.planned is not None else self.replicates
        return self.scored.get(classifier, 0) < planned

    def prevalence(self) -> tuple[float, float]:
        """Mean scored episodes per cohort and their flare share (NaN if not recorded)."""
        for classifier in self.order:
            episodes = self.value(classifier, "n_episodes")
            flare = self.value(classifier, "n_flare")
            if not math.isnan(episodes):
                return episodes, flare / episodes if episodes else math.nan
        return math.nan, math.nan

    def value(self, classifier: str, metric: str, stat: str = "mean") -> float:
        """One statistic (``mean``, ``mcse``, ``ci_low``...) of a metric; NaN if absent."""
        row = self._rows.get((classifier, metric))
        return math.nan if row is None else float(row.get(stat, math.nan))

    @functools.cached_property
    def _rows(self) -> dict[tuple[str, str], dict[str, float]]:
        """``stats`` by (classifier, metric), read once: a table's cells look up hundreds."""
        return dict(zip(self.stats.index, self.stats.to_dict("records"), strict=True))

    def metrics(self) -> list[str]:
        """Metrics present in this board."""
        return list(self.stats.index.get_level_values("metric").unique())


def _rank(summary: pd.DataFrame, metric: str) -> list[str]:
    """Classifiers best first on ``metric`` (alphabetical if it is absent)."""
    if not (summary["metric"] == metric).any():
        return sorted(summary["classifier"].astype(str).unique())
    board = leaderboard(summary, metric)
    return [str(c) for c in board["classifier"]]


def _ceiling_warnings(
    results: pd.DataFrame, task: str, ceilings: Sequence[str], metric: str
) -> list[str]:
    """Name every classifier that beats a ceiling on ``metric`` beyond Monte Carlo error."""
    out = []
    rows = results[results["metric"] == metric]  # checked whole by the run's summary
    for ceiling in ceilings:
        for row in oracle_warnings(rows, ceiling, metric).itertuples(index=False):
            gain = abs(row.mean)
            spread = f"{gain / row.mcse:.1f}" if row.mcse > 0 else "infinitely many"
            where = f"{row.scenario}, {task}" if task else str(row.scenario)
            out.append(
                f"{row.classifier} beats the ceiling {ceiling} on {info(metric).header} by "
                f"{gain:.3g} ({spread} Monte Carlo SE of the paired difference, "
                f"more than {WARNING_SE:g}) in {where}: the ceiling is not a ceiling there"
            )
    return out


def scored_replicates(results: pd.DataFrame, failures: pd.DataFrame | None) -> pd.DataFrame:
    """Replicates in which each classifier was scored, per scenario.

    A replicate counts unless a failure is recorded for the classifier there, or its
    training failed (a failure of replicate -1: no replicate counts). A metric merely
    undefined in a cohort (NaN, e.g. an AUC without flare) is a missing value, not a
    failure.

    Returns
    -------
    DataFrame
        ``scenario``, ``classifier`` and ``replicates``.

    """
    keys = ["scenario", "classifier", "replicate"]
    present = results.loc[:, keys].astype({"scenario": str, "classifier": str, "replicate": int})
    present = present.drop_duplicates()
    if failures is not None and len(failures):
        failed = failures.loc[:, keys].astype(
            {"scenario": str, "classifier": str, "replicate": int}
        )
        untrained = failed.loc[failed["replicate"] < 0, ["scenario", "classifier"]]
        per_unit = failed.loc[failed["replicate"] >= 0].drop_duplicates()
        marked = present.merge(per_unit.assign(_failed=True), on=keys, how="left")
        marked = marked.merge(
            untrained.drop_duplicates().assign(_untrained=True),
            on=["scenario", "classifier"],
            how="left",
        )
        keep = marked["_failed"].isna() & marked["_untrained"].isna()
        present = present[keep.to_numpy()]
    counts = present.groupby(["scenario", "classifier"])["replicate"].nunique()
    return counts.rename("replicates").reset_index()


def summarise_run(
    results: pd.DataFrame,
    failures: pd.DataFrame,
    reference: str | None,
    *,
    ceilings: Sequence[str] = (),
    planned: int | None = None,
    sort_by: str = SORT_METRIC,
) -> Summary:
    """Aggregate a run's long results across replicates, per task (missing values excluded).

    Parameters
    ----------
    results : DataFrame
        Long results (``[task,] scenario, classifier, replicate, metric, value``).
    failures : DataFrame
        Failure records (shown under the leaderboard).
    reference : str or None
        Classifier of the paired differences (none when absent from the results).
    ceilings : sequence of str
        Classifiers to show as a ceiling rather than rank (the Bayes oracle).
    planned : int, optional
        Replicates planned per scenario; classifiers scored in fewer are marked.
    sort_by : str
        Metric to rank by (best first, in its direction).

    Returns
    -------
    Summary
        Per-task summaries, paired differences, replicate counts and warnings.

    """
    summaries, differences, scored, warnings = [], [], [], []
    present = set(results["classifier"].astype(str).unique()) if len(results) else set()
    ceilings = tuple(c for c in ceilings if c in present)
    for task, part in by_task(results):
        summaries.append(_with_task(summarise(part), task))
        scored.append(_with_task(scored_replicates(part, failures), task))
        if reference is not None and (part["classifier"] == reference).any():
            differences.append(_with_task(paired_differences(part, reference), task))
        warnings += _ceiling_warnings(part, task, ceilings, "roc_auc")
        if sort_by != "roc_auc":
            warnings += _ceiling_warnings(part, task, ceilings, sort_by)
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    return Summary(
        summary=summary,
        differences=pd.concat(differences, ignore_index=True) if differences else None,
        reference=reference,
        failures=failures,
        ceilings=ceilings,
        scored=pd.concat(scored, ignore_index=True) if scored else pd.DataFrame(),
        planned=planned,
        sort_by=sort_by,
        warnings=warnings,
    )


def _complete_first(order: list[str], counts: pd.DataFrame, planned: int | None) -> list[str]:
    """``order`` with classifiers scored in fewer replicates than planned moved last.

    Their means are over other cohorts than the rest, so not comparable; the order is
    otherwise kept.
    """
    scored = dict(zip(counts["classifier"].astype(str), counts["replicates"], strict=True))
    full = planned if planned is not None else max(scored.values(), default=0)
    return sorted(order, key=lambda c: scored.get(c, 0) < full)


def boards(summary: Summary) -> list[Board]:
    """One :class:`Board` per task and scenario, tasks in display order, scenarios by name."""
    if summary.summary.empty:
        return []
    out = []
    for task, part in by_task(summary.summary):
        for scenario in sorted(part["scenario"].astype(str).unique()):
            rows = part[part["scenario"].astype(str) == scenario]
            order = _rank(rows, summary.sort_by)
            counts = summary.scored
            counts = counts[(counts["task"] == task) & (counts["scenario"].astype(str) == scenario)]
            out.append(
                Board(
                    task=task,
                    scenario=scenario,
                    ranked=_complete_first(
                        [c for c in order if c not in summary.ceilings], counts, summary.planned
                    ),
                    ceiling=[c for c in order if c in summary.ceilings],
                    stats=rows.assign(classifier=rows["classifier"].astype(str)).set_index(
                        ["classifier", "metric"]
                    ),
                    scored=dict(
                        zip(counts["classifier"].astype(str), counts["replicates"], strict=True)
                    ),
                    planned=summary.planned,
                )
            )
    return out


def failure_lines(failures: pd.DataFrame) -> list[str]:
    """One line per (classifier, stage, message): how many units it failed in."""
    if failures is None or failures.empty:
        return []
    lines = []
    grouped = failures.groupby(["classifier", "stage", "message"], sort=True, observed=True)
    for (classifier, stage, message), rows in grouped:
        units = rows["unit"].nunique()
        lines.append(f"{classifier} failed in {stage} ({units} unit(s)): {message}")
    return lines


def run_summary(
    tables: dict[str, pd.DataFrame], info_: dict, sort_by: str = SORT_METRIC
) -> Summary:
    """Summarise a stored run from its tables and provenance (ceilings, planned replicates).

    Parameters
    ----------
    tables : dict of str to DataFrame
        ``results`` and ``failures`` of the run.
    info_ : dict
        The run's provenance (``experiment``: reference, replicates, classifiers).
    sort_by : str
        Metric to rank by.

    Returns
    -------
    Summary
        As :func:`summarise_run`.

    """
    experiment = info_.get("experiment", {})
    ceilings = [
        c["label"] for c in experiment.get("classifiers", []) if c.get("trains_on_test_scenario")
    ]
    return summarise_run(
        tables["results"],
        tables["failures"],
        experiment.get("reference"),
        ceilings=ceilings,
        planned=experiment.get("replicates"),
        sort_by=sort_by,
    )

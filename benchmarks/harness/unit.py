"""The work of a benchmark: fitting a learned classifier, and scoring every classifier on a cohort.

Both functions run in worker processes (or on Dask workers) and return plain data to
the parent, which stores it. Neither lets a classifier's failure escape: an exception,
NaN or a wrong shape in ``fit``, ``predict_proba`` or ``decide`` becomes a failure
record (classifier, unit, stage, message) and the other classifiers go on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.base import clone

from boneflare.benchmarks.harness.consequences import CohortOutcomes
from boneflare.benchmarks.harness.deferral import (
    deferred_actions,
    next_ct_episodes,
    policy_defers,
)
from boneflare.benchmarks.harness.entries import ClassifierEntry
from boneflare.benchmarks.harness.plan import Plan, TrainJob, Unit
from boneflare.benchmarks.harness.tables import failures_table, predictions_table, results_table
from boneflare.benchmarks.harness.timing import Stopwatch
from boneflare.benchmarks.learning import episode_labels as labels
from boneflare.benchmarks.learning import observed_batch as observed
from boneflare.benchmarks.metrics import (
    DEFERRAL_POLICIES,
    TRADEOFF_METRICS,
    classification_metrics,
    policy_metric,
)
from boneflare.classifiers.base import ClassifierError, FlareClassifier, validate_probabilities
from boneflare.simulator.observed import (
    ACTION_NAMES,
    TASKS,
    ObservedBatch,
    decision_points,
)
from boneflare.simulator.run import simulate
from boneflare.simulator.tables import CohortTables


@dataclass
class FitOutput:
    """A training job's result: the fitted model, or why it failed."""

    key: str
    model: FlareClassifier | None
    seconds: float
    error: str | None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class UnitOutput:
    """A unit's result: long metric rows, per-episode predictions, failures, timings.

    The tables are Arrow tables in the schemas of :mod:`boneflare.benchmarks.harness.tables`.
    """

    name: str
    results: pa.Table
    predictions: pa.Table
    failures: pa.Table
    timings: dict[str, float]


@dataclass(frozen=True)
class WorkContext:
    """What every unit needs: the plan and the fitted models (shipped once per worker)."""

    plan: Plan
    models: Mapping[str, FlareClassifier]
    fit_seconds: Mapping[str, float]


def describe_error(exc: BaseException) -> str:
    """One line naming an exception's type and message."""
    text = " ".join(str(exc).split()) or "(no message)"
    return text if isinstance(exc, ClassifierError) else f"{type(exc).__name__}: {text}"


def fit_job(job: TrainJob, prototype: FlareClassifier, engine: str) -> FitOutput:
    """Simulate a training cohort and fit a fresh copy of the classifier on it.

    A ``random_state`` parameter left at ``None`` is set to the job's derived seed, so
    a fit is reproducible whatever the worker.

    Parameters
    ----------
    job : TrainJob
        The training scenario, seed and cohort size.
    prototype : FlareClassifier
        The unfitted classifier (cloned, never changed).
    engine : str
        Simulation engine.

    Returns
    -------
    FitOutput
        The fitted model and its fit time, or the one-line reason it failed.

    """
    watch = Stopwatch()
    try:
        with watch("simulate"):
            tables = simulate(job.scenario, job.patients, job.seed, engine=engine, progress=False)
        with watch("build_batch"):
            batch = observed(tables)
            y = labels(tables)
        model = clone(prototype)
        params = model.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            model.set_params(random_state=job.random_state)
        started = time.perf_counter()
        model.fit(batch, y)
        seconds = time.perf_counter() - started
        watch.add("fit", seconds)
    except Exception as exc:  # a plugin's failure is data, not a crash
        return FitOutput(job.key, None, 0.0, describe_error(exc), watch.seconds)
    return FitOutput(job.key, model, seconds, None, watch.seconds)


def _decide(model: FlareClassifier, batch: ObservedBatch) -> tuple[np.ndarray, np.ndarray]:
    """P(flare) and calls, checked whatever the classifier overrides."""
    decision = model.decide(batch)
    who = model.name or type(model).__name__
    p = validate_probabilities(decision.p_flare, len(batch), who)
    action = np.asarray(decision.action)
    if action.shape != (len(batch),):
        raise ClassifierError(f"{who} returned {action.shape} actions for {len(batch)} episodes")
    if not np.isin(action, np.arange(len(ACTION_NAMES))).all():
        raise ClassifierError(f"{who} returned an action that is not continue, stop or defer")
    return p, action.astype(np.int8)


def task_selections(cohort: CohortTables) -> dict[str, np.ndarray | None]:
    """The episodes of each scored task, in ``TASKS`` order (None: every episode).

    ``decision_point`` selects the rows of ``cohort.episodes`` that
    :func:`~boneflare.simulator.observed.decision_points` marks, from observed tables only.
    """
    selections: dict[str, np.ndarray | None] = {
        "decision_point": decision_points(cohort.episodes, cohort.patients, cohort.scans),
        "all_episodes": None,
    }
    return {task: selections[task] for task in TASKS}


class _Scorer:
    """Scores the classifiers of a plan on one unit's cohort, collecting rows and arrays."""

    def __init__(
        self,
        unit: Unit,
        context: WorkContext,
        watch: Stopwatch,
        cohort: CohortTables,
        tasks: dict[str, np.ndarray | None],
    ) -> None:
        self.unit = unit
        self.context = context
        self.watch = watch
        self.tasks = tasks
        self.episodes = cohort.episodes
        self.next_ct = next_ct_episodes(cohort.episodes, cohort.scans)
        scenario = context.plan.point(unit.scenario).scenario
        self.outcomes = CohortOutcomes(cohort.episodes, cohort.truth, scenario.horizon_days)
        self.rows: dict[str, list[tuple[str, str, float]]] = {task: [] for task in tasks}
        self.scored: list[tuple[int, np.ndarray, np.ndarray]] = []  # (classifier, p, action)
        self.failures: list[dict[str, Any]] = []

    def fail(self, classifier: str, stage: str, exc: BaseException) -> None:
        """Record a failure of ``classifier`` at ``stage``."""
        self.failures.append(
            {
                "scenario": self.unit.scenario,
                "classifier": classifier,
                "replicate": self.unit.replicate,
                "unit": self.unit.name,
                "stage": stage,
                "message": describe_error(exc),
            }
        )

    def model(self, entry: ClassifierEntry, batch: ObservedBatch) -> tuple[FlareClassifier, float]:
        """The fitted model: the run's cached fit, or a fresh rule 'fitted' without labels."""
        if entry.learned:
            key = self.context.plan.models[(self.unit.scenario, entry.label)]
            return self.context.models[key], self.context.fit_seconds[key]
        model = clone(entry.prototype)
        started = time.perf_counter()
        model.fit(batch)
        seconds = time.perf_counter() - started
        self.watch.add("fit", seconds)
        return model, seconds

    def consequences(
        self, model: FlareClassifier, action: np.ndarray
    ) -> dict[str, dict[str, float]]:
        """Consequences of the calls per task: inferred (open loop) or simulated (closed loop)."""
        plan = self.context.plan
        if not plan.config.closed_loop:
            with self.watch("metrics"):
                return {
                    task: self.outcomes.open_loop(action, calls=chosen)
                    for task, chosen in self.tasks.items()
                }
        with self.watch("closed_loop"):
            closed = simulate(
                plan.point(self.unit.scenario).scenario,
                self.unit.patients,
                self.unit.seed,
                engine=plan.config.engine,
                policy=model,
                closed_loop=True,
                progress=False,
            )
        ids = self.episodes["episode_id"].to_numpy()
        with self.watch("metrics"):
            return {
                task: self.outcomes.closed_loop(closed.truth, closed.decisions, chosen, ids)
                for task, chosen in self.tasks.items()
            }

    def tradeoff(
        self, model: FlareClassifier, p: np.ndarray, action: np.ndarray
    ) -> dict[str, float]:
        """Consequences at the decision point of each deferral policy (inferred, open loop)."""
        decision = self.tasks["decision_point"]
        out: dict[str, float] = {}
        for policy in DEFERRAL_POLICIES[1:]:
            defer = policy_defers(policy, p, float(model.threshold))
            actions = deferred_actions(self.next_ct, decision, defer, action)
            values = self.outcomes.open_loop(actions, calls=decision)
            out |= {policy_metric(m, policy): values[m] for m in TRADEOFF_METRICS}
        return out

    def score(
        self, index: int, entry: ClassifierEntry, batch: ObservedBatch, y: np.ndarray
    ) -> None:
        """Fit (rules), predict, score and record one classifier; record a failure instead."""
        plan = self.context.plan
        key = plan.models.get((self.unit.scenario, entry.label))
        if entry.learned and key not in self.context.models:
            return  # its fit failed: recorded once, at the training stage
        stage = "fit"
        try:
            model, fit_seconds = self.model(entry, batch)
            stage = "predict"
            started = time.perf_counter()
            p, action = _decide(model, batch)
            predict_seconds = time.perf_counter() - started
            self.watch.add("predict", predict_seconds)
            stage = "closed_loop" if plan.config.closed_loop else "metrics"
            consequences = self.consequences(model, action)
            stage = "metrics"
            with self.watch("metrics"):
                values = {}
                for task, chosen in self.tasks.items():
                    part = slice(None) if chosen is None else chosen
                    values[task] = classification_metrics(
                        y[part], p[part], threshold=float(model.threshold)
                    )
                    values[task] |= consequences[task]
                    if task == "decision_point":
                        values[task] |= self.tradeoff(model, p, action)
                    values[task]["fit_seconds"] = fit_seconds
                    values[task]["predict_seconds"] = predict_seconds
        except Exception as exc:  # isolate the failure; the others go on
            self.fail(entry.label, stage, exc)
            return
        for task, metrics in values.items():
            self.rows[task].extend((entry.label, m, float(v)) for m, v in metrics.items())
        self.scored.append((index, p, action))

    def results(self) -> pa.Table:
        """Every scored classifier's metric rows, task by task (``TASKS`` order)."""
        rows = [(task, *row) for task, task_rows in self.rows.items() for row in task_rows]
        return results_table(self.unit.scenario, self.unit.replicate, rows)

    def predictions(self, y: np.ndarray) -> pa.Table:
        """Every scored classifier's predictions, one row per (task, classifier, episode).

        A decision point appears twice: once in each task.
        """
        plan_labels = [e.label for e in self.context.plan.classifiers]
        labels = [plan_labels[i] for i, _, _ in self.scored]
        tables = []
        columns = ("episode_id", "patient_id", "day")
        for task, chosen in self.tasks.items():
            part = slice(None) if chosen is None else chosen
            tables.append(
                predictions_table(
                    self.unit.scenario,
                    task,
                    self.unit.replicate,
                    labels,
                    {c: self.episodes[c].to_numpy()[part] for c in columns},
                    y[part],
                    np.concatenate([p[part] for _, p, _ in self.scored] or [np.zeros(0)]),
                    np.concatenate([a[part] for _, _, a in self.scored] or [np.zeros(0, np.int8)]),
                )
            )
        return pa.concat_tables(tables)


def run_unit(unit: Unit, context: WorkContext) -> UnitOutput:
    """Simulate a unit's test cohort once and score every classifier of the plan on it.

    Parameters
    ----------
    unit : Unit
        Scenario point, replicate and seed of the test cohort.
    context : WorkContext
        The plan and the fitted learned classifiers.

    Returns
    -------
    UnitOutput
        Metric rows, per-episode predictions and failures of every classifier, and the
        seconds spent per phase.

    """
    plan = context.plan
    watch = Stopwatch()
    with watch("simulate"):
        cohort = simulate(
            plan.point(unit.scenario).scenario,
            unit.patients,
            unit.seed,
            engine=plan.config.engine,
            progress=False,
        )
    with watch("build_batch"):
        batch = observed(cohort)
        y = labels(cohort)
        tasks = task_selections(cohort)
    with watch("metrics"):
        scorer = _Scorer(unit, context, watch, cohort, tasks)
    for index, entry in enumerate(plan.classifiers):
        scorer.score(index, entry, batch, y)
    with watch("store"):
        results = scorer.results()
        predictions = scorer.predictions(y)
        failures = failures_table(scorer.failures)
    return UnitOutput(unit.name, results, predictions, failures, watch.seconds)

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
import pandas as pd
import pyarrow as pa
from sklearn.base import clone

from boneflare.benchmarks.harness.consequences import CohortOutcomes
from boneflare.benchmarks.harness.entries import ClassifierEntry
from boneflare.benchmarks.harness.plan import Plan, TrainJob, Unit
from boneflare.benchmarks.harness.tables import failures_table, predictions_table, results_table
from boneflare.benchmarks.harness.timing import Stopwatch
from boneflare.benchmarks.learning import episode_labels as labels
from boneflare.benchmarks.learning import observed_batch as observed
from boneflare.benchmarks.metrics import classification_metrics
from boneflare.classifiers.base import ClassifierError, FlareClassifier, validate_probabilities
from boneflare.simulator.observed import ACTION_NAMES, ObservedBatch
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


class _Scorer:
    """Scores the classifiers of a plan on one unit's cohort, collecting rows and arrays."""

    def __init__(
        self, unit: Unit, context: WorkContext, watch: Stopwatch, cohort: CohortTables
    ) -> None:
        self.unit = unit
        self.context = context
        self.watch = watch
        scenario = context.plan.point(unit.scenario).scenario
        self.outcomes = CohortOutcomes(cohort.episodes, cohort.truth, scenario.horizon_days)
        self.rows: list[tuple[str, str, float]] = []
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

    def consequences(self, model: FlareClassifier, action: np.ndarray) -> dict[str, float]:
        """Consequences of the calls: inferred (open loop) or simulated (closed loop)."""
        plan = self.context.plan
        if not plan.config.closed_loop:
            with self.watch("metrics"):
                return self.outcomes.open_loop(action)
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
        with self.watch("metrics"):
            return self.outcomes.closed_loop(closed.truth, closed.decisions)

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
                values = classification_metrics(y, p, threshold=float(model.threshold))
                values |= consequences
                values["fit_seconds"] = fit_seconds
                values["predict_seconds"] = predict_seconds
        except Exception as exc:  # isolate the failure; the others go on
            self.fail(entry.label, stage, exc)
            return
        self.rows.extend((entry.label, m, float(v)) for m, v in values.items())
        self.scored.append((index, p, action))

    def predictions(self, episodes: pd.DataFrame, y: np.ndarray) -> pa.Table:
        """Every scored classifier's predictions, one row per (classifier, episode)."""
        plan_labels = [e.label for e in self.context.plan.classifiers]
        return predictions_table(
            self.unit.scenario,
            self.unit.replicate,
            [plan_labels[i] for i, _, _ in self.scored],
            {c: episodes[c].to_numpy() for c in ("episode_id", "patient_id", "day")},
            y,
            np.concatenate([p for _, p, _ in self.scored] or [np.zeros(0)]),
            np.concatenate([a for _, _, a in self.scored] or [np.zeros(0, np.int8)]),
        )


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
    with watch("metrics"):
        scorer = _Scorer(unit, context, watch, cohort)
    for index, entry in enumerate(plan.classifiers):
        scorer.score(index, entry, batch, y)
    with watch("store"):
        results = results_table(unit.scenario, unit.replicate, scorer.rows)
        predictions = scorer.predictions(cohort.episodes, y)
        failures = failures_table(scorer.failures)
    return UnitOutput(unit.name, results, predictions, failures, watch.seconds)

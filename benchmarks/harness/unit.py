"""The work of a benchmark: fitting a learned classifier, and scoring every classifier on a cohort.

Both functions run in worker processes (or on Dask workers) and return plain data to
the parent, which stores it. Neither runs a classifier's code itself: every fit,
prediction and closed-loop simulation is a guarded call in a child process
(:func:`boneflare.benchmarks.harness.sandbox.guarded` for a training fit; for the
calls of a unit, the classifier's own long-lived child,
:func:`boneflare.benchmarks.harness.cells.start_call`, the next classifier's call
started before the previous one is scored), with its own copy of the batch and a
deadline. Whatever goes wrong there (any
exception, NaN or a wrong shape, a hang, the child's death, a model that cannot be
pickled) becomes a failure record (classifier, unit, stage, message) and the other
classifiers go on, unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from boneflare.benchmarks.harness import calls
from boneflare.benchmarks.harness.cells import Call, start_call
from boneflare.benchmarks.harness.consequences import CohortOutcomes
from boneflare.benchmarks.harness.deferral import (
    deferred_actions,
    next_ct_episodes,
    policy_defers,
)
from boneflare.benchmarks.harness.entries import ClassifierEntry
from boneflare.benchmarks.harness.plan import Plan, TrainJob, Unit
from boneflare.benchmarks.harness.sandbox import DEFAULT_TIMEOUT, describe_error, guarded
from boneflare.benchmarks.harness.shipping import Kept, Shipped
from boneflare.benchmarks.harness.tables import (
    failures_table,
    parquet_bytes,
    predictions_table,
    results_table,
)
from boneflare.benchmarks.harness.timing import Stopwatch
from boneflare.benchmarks.learning import episode_labels as labels
from boneflare.benchmarks.learning import observed_batch as observed
from boneflare.benchmarks.metrics import (
    DEFERRAL_POLICIES,
    TRADEOFF_METRICS,
    classification_metrics,
    policy_metric,
)
from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import (
    TASKS,
    ObservedBatch,
    decision_points,
)
from boneflare.simulator.run import simulate
from boneflare.simulator.tables import CohortTables


@dataclass
class FitOutput:
    """A training job's result: the fitted model (pickled), or why it failed."""

    key: str
    model: bytes | None
    seconds: float
    error: str | None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class UnitOutput:
    """A unit's result: long metric rows, per-episode predictions, failures, timings.

    ``tables`` are Arrow tables in the schemas of
    :mod:`boneflare.benchmarks.harness.tables`, by name (``results``, ``predictions``,
    ``failures``); ``files`` the same tables already encoded as the unit's Parquet files
    by the worker, so that the parent, which stores every unit, only writes them out.
    """

    name: str
    tables: dict[str, pa.Table]
    files: dict[str, bytes]
    timings: dict[str, float]


@dataclass(frozen=True)
class WorkContext:
    """What every unit needs: the plan and the pickled fitted models (shipped once per worker).

    The models are :class:`~boneflare.benchmarks.harness.shipping.Kept` bytes, so a
    classifier's cell receives its model once. ``timeout`` is the deadline of one
    classifier call, in seconds.
    """

    plan: Plan
    models: Mapping[str, Kept]
    fit_seconds: Mapping[str, float]
    timeout: float = DEFAULT_TIMEOUT


__all__ = [
    "FitOutput",
    "UnitOutput",
    "WorkContext",
    "describe_error",
    "fit_job",
    "run_unit",
    "share_features",
    "task_selections",
]


def fit_job(
    job: TrainJob, prototype: FlareClassifier, engine: str, timeout: float = DEFAULT_TIMEOUT
) -> FitOutput:
    """Simulate a training cohort and fit a fresh copy of the classifier on it.

    The fit is a guarded call (:func:`~boneflare.benchmarks.harness.sandbox.guarded`); a
    ``random_state`` parameter left at ``None`` is set to the job's derived seed, so a
    fit is reproducible whatever the worker.

    Parameters
    ----------
    job : TrainJob
        The training scenario, seed and cohort size.
    prototype : FlareClassifier
        The unfitted classifier (cloned, never changed).
    engine : str
        Simulation engine.
    timeout : float
        Seconds the fit may take.

    Returns
    -------
    FitOutput
        The pickled fitted model and its fit time, or the one-line reason it failed.

    """
    watch = Stopwatch()
    with watch("simulate"):
        tables = simulate(job.scenario, job.patients, job.seed, engine=engine, progress=False)
    with watch("build_batch"):
        batch = observed(tables)
        y = labels(tables)
    with watch("features"):
        share_features(batch)
    del tables  # released before the fit starts: its child gets the batch and labels only
    outcome = guarded(calls.fit_model, prototype, batch, y, job.random_state, timeout=timeout)
    if not outcome.ok:
        return FitOutput(job.key, None, 0.0, outcome.error, watch.seconds)
    blob, seconds = outcome.value
    watch.add("fit", seconds)
    return FitOutput(job.key, blob, seconds, None, watch.seconds)


def share_features(batch: ObservedBatch) -> None:
    """Check the batch and compute its feature table once, here, for every classifier.

    :meth:`~boneflare.simulator.observed.ObservedBatch.check` and
    :func:`~boneflare.classifiers.features.extract_features` keep their results with
    the batch, so each guarded child receives them with its copy of the batch instead
    of redoing them. The table holds observed data only. Should either fail, nothing is
    kept, and each classifier meets the same error in its own guarded call, where the
    failure is recorded against that classifier.
    """
    try:
        batch.check()
        extract_features(batch)
    except Exception:  # recorded per classifier, in the guarded calls
        return


def ship(batch: ObservedBatch) -> AbstractContextManager[ObservedBatch | Shipped]:
    """The batch pickled once for every classifier's call, to use in a ``with`` block.

    Entering gives the argument to pass (the batch itself if it cannot be pickled: each
    call then pickles it, or forks a child that inherits it); leaving frees its bytes.
    """
    try:
        return Shipped(batch)
    except Exception:
        return nullcontext(batch)


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

    def fail(self, classifier: str, stage: str, message: str) -> None:
        """Record a failure of ``classifier`` at ``stage``, with a one-line ``message``."""
        self.failures.append(
            {
                "scenario": self.unit.scenario,
                "classifier": classifier,
                "replicate": self.unit.replicate,
                "unit": self.unit.name,
                "stage": stage,
                "message": message,
            }
        )

    def _call(self, stage: str, entry: ClassifierEntry, fn: Any, *args: Any) -> Any:
        """A guarded call of ``fn(*args)``: its value, or ``None`` with the failure recorded."""
        call = start_call(entry.label, fn, *args, timeout=self.context.timeout)
        return self._value(stage, entry, call)

    def _value(self, stage: str, entry: ClassifierEntry, call: Call) -> Any:
        """A started call's value, or ``None`` with the failure recorded.

        The failure is recorded at the last stage the call entered, else at ``stage``.
        """
        outcome = call.outcome()
        if not outcome.ok:
            self.fail(entry.label, outcome.stage or stage, outcome.error or "")
            return None
        return outcome.value

    def start(self, entry: ClassifierEntry, batch: ObservedBatch | Shipped) -> Call | None:
        """Start the classifier's decisions on the batch in its cell (see :meth:`decide`).

        ``None`` when there is nothing to start: the classifier could not be built, or
        (learned) its training failed; :meth:`score` records why.
        """
        if entry.error is not None:
            return None
        timeout = self.context.timeout
        if not entry.learned:  # a rule: fit and decide, in one guarded call
            return start_call(
                entry.label, calls.fit_and_decide, entry.prototype, batch, timeout=timeout
            )
        key = self._model_key(entry)
        if key is None:
            return None
        return start_call(
            entry.label, calls.decide, self.context.models[key], batch, timeout=timeout
        )

    def _model_key(self, entry: ClassifierEntry) -> str | None:
        """The key of a learned classifier's fitted model here (None: none was fitted)."""
        key = self.context.plan.models.get((self.unit.scenario, entry.label))
        return key if key in self.context.models else None

    def decide(self, entry: ClassifierEntry, call: Call) -> tuple[Any, ...] | None:
        """The fit (a rule, here) and decisions of a started call (:meth:`start`).

        Returns
        -------
        tuple or None
            ``(model, fit_seconds, p_flare, action, predict_seconds)`` with the model
            pickled; ``None`` when the call failed (recorded) or a learned
            classifier's training failed (recorded once, at the training stage).

        """
        if not entry.learned:
            decided = self._value("fit", entry, call)
            if decided is not None:
                self.watch.add("fit", decided[1])
            return decided
        decided = self._value("predict", entry, call)
        if decided is None:
            return None
        key = self._model_key(entry)
        return (self.context.models[key], self.context.fit_seconds[key], *decided)

    def consequences(
        self, entry: ClassifierEntry, model: bytes | Kept, action: np.ndarray
    ) -> dict[str, dict[str, float]] | None:
        """Consequences of the calls per task: inferred (open loop) or simulated (closed loop).

        ``None`` when the closed-loop simulation with the classifier failed (recorded).
        """
        plan = self.context.plan
        if not plan.config.closed_loop:
            with self.watch("metrics"):
                return self.outcomes.open_loop_tasks(action, self.tasks)
        with self.watch("closed_loop"):
            scenario = plan.point(self.unit.scenario).scenario
            args = (model, scenario, self.unit.patients, self.unit.seed, plan.config.engine)
            closed = self._call("closed_loop", entry, calls.closed_loop, *args)
        if closed is None:
            return None
        truth, decisions = closed
        ids = self.episodes["episode_id"].to_numpy()
        with self.watch("metrics"):
            return {
                task: self.outcomes.closed_loop(truth, decisions, chosen, ids)
                for task, chosen in self.tasks.items()
            }

    def tradeoff(self, threshold: float, p: np.ndarray, action: np.ndarray) -> dict[str, float]:
        """Consequences at the decision point of each deferral policy (inferred, open loop)."""
        decision = self.tasks["decision_point"]
        out: dict[str, float] = {}
        for policy in DEFERRAL_POLICIES[1:]:
            defer = policy_defers(policy, p, threshold)
            actions = deferred_actions(self.next_ct, decision, defer, action)
            values = self.outcomes.open_loop(actions, calls=decision)
            out |= {policy_metric(m, policy): values[m] for m in TRADEOFF_METRICS}
        return out

    def score(self, index: int, entry: ClassifierEntry, call: Call | None, y: np.ndarray) -> None:
        """Score and record one classifier from its started call; record a failure instead.

        Every call of the classifier's code is guarded; the metrics are computed here.
        """
        if entry.error is not None:
            self.fail(entry.label, "init", entry.error)
            return
        if call is None:  # its training failed: recorded once, at the training stage
            return
        decided = self.decide(entry, call)
        if decided is None:
            return
        model, fit_seconds, p, action, predict_seconds = decided
        self.watch.add("predict", predict_seconds)
        consequences = self.consequences(entry, model, action)
        if consequences is None:
            return
        try:
            with self.watch("metrics"):
                threshold = float(entry.prototype.threshold)
                values = {}
                for task, chosen in self.tasks.items():
                    part = slice(None) if chosen is None else chosen
                    values[task] = classification_metrics(y[part], p[part], threshold=threshold)
                    values[task] |= consequences[task]
                    if task == "decision_point":
                        values[task] |= self.tradeoff(threshold, p, action)
                    values[task]["fit_seconds"] = fit_seconds
                    values[task]["predict_seconds"] = predict_seconds
        except Exception as exc:  # e.g. a threshold that is not a number
            self.fail(entry.label, "metrics", describe_error(exc))
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
    with watch("features"):
        share_features(batch)
    with watch("metrics"):
        scorer = _Scorer(unit, context, watch, cohort, tasks)
    with watch("build_batch"):
        shipping = ship(batch)
    with shipping as argument:
        # Each classifier's call starts before the previous one is scored, so that it
        # decides in its cell while the metrics of the previous one are computed here.
        started: Call | None = None
        for index, entry in enumerate(plan.classifiers):
            call = scorer.start(entry, argument)
            if index:
                scorer.score(index - 1, plan.classifiers[index - 1], started, y)
            started = call
        if plan.classifiers:
            scorer.score(len(plan.classifiers) - 1, plan.classifiers[-1], started, y)
    with watch("store"):
        tables = {
            "results": scorer.results(),
            "predictions": scorer.predictions(y),
            "failures": failures_table(scorer.failures),
        }
        files = {name: parquet_bytes(table, unit_file=True) for name, table in tables.items()}
    return UnitOutput(unit.name, tables, files, watch.seconds)

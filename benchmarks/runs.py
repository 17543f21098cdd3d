"""A benchmark run from Python: :func:`run_benchmark` runs one, :func:`load_run` reads one.

Both return a :class:`BenchmarkRun`: the three long tables as DataFrames, the
provenance as a dict, and :meth:`BenchmarkRun.leaderboard`::

    import boneflare

    run = boneflare.run_benchmark(["all", MyRule(), "my_rules:EarlyAlp[drop_pct=15]"],
                                  quick=True, out="runs/mine")
    run.leaderboard()
    again = boneflare.load_run("runs/mine")   # the same tables, read back

See docs/benchmarks.md (running) and docs/results.md (the tables).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

    from boneflare.benchmarks.harness import BenchmarkConfig, Execution
    from boneflare.benchmarks.harness.entries import ClassifierSpec
    from boneflare.benchmarks.harness.plan import ScenarioSpec

RUNS: Final[str] = "runs"
"""Folder (in the working directory) under which commands write by default."""

QUICK = {"replicates": 5, "patients": 500, "max_training_patients": 5000}
"""Sizes of ``quick``: a small default benchmark that finishes in well under a minute."""

DEFAULTS = {"replicates": 200, "patients": 1000, "max_training_patients": None}
"""Sizes of the full default benchmark."""

HEADLINE_TASK = "decision_point"
"""The task a leaderboard shows when the results hold several and none is named."""


def default_workers() -> int:
    """Local worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def benchmark_config(
    classifiers: str | Sequence[ClassifierSpec] | Mapping[str, ClassifierSpec] = "all",
    scenarios: ScenarioSpec | Sequence[ScenarioSpec] = "paper",
    *,
    quick: bool = False,
    replicates: int | None = None,
    patients: int | None = None,
    max_training_patients: int | None = None,
    **options: Any,
) -> BenchmarkConfig:
    """The configuration of a benchmark, the default sizes filled in.

    Parameters
    ----------
    classifiers, scenarios
        As :func:`run_benchmark` takes them (one scenario or a sequence of them).
    quick : bool
        Sizes of :data:`QUICK` instead of :data:`DEFAULTS` where none is given.
    replicates, patients, max_training_patients : int, optional
        Sizes that override the defaults.
    **options
        Any other field of :class:`~boneflare.benchmarks.harness.BenchmarkConfig`
        (``seed``, ``overrides``, ``grid``, ``train_scenario``, ``closed_loop``,
        ``reference``, ``engine``).

    Returns
    -------
    BenchmarkConfig
        Not yet checked: the harness checks it before any work.

    """
    from boneflare.benchmarks.harness import BenchmarkConfig

    sizes = QUICK if quick else DEFAULTS
    if isinstance(scenarios, str | os.PathLike) or not isinstance(scenarios, Sequence):
        scenarios = [scenarios]
    return BenchmarkConfig(
        classifiers=classifiers,
        scenarios=list(scenarios),
        replicates=replicates or sizes["replicates"],
        patients=patients or sizes["patients"],
        max_training_patients=max_training_patients or sizes["max_training_patients"],
        **options,
    )


def execution(
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = False,
    **options: Any,
) -> Execution:
    """How to run a benchmark, the default worker count filled in.

    Parameters
    ----------
    executor : str
        ``"local"`` or ``"dask"``.
    workers : int, optional
        Local worker processes; default :func:`default_workers` locally, 1 with Dask.
    scheduler, progress, **options
        As the fields of :class:`~boneflare.benchmarks.harness.Execution` (``timeout``).

    Returns
    -------
    Execution
        Not yet checked: the harness checks it before any work.

    """
    from boneflare.benchmarks.harness import Execution

    workers = workers or (1 if executor == "dask" else default_workers())
    return Execution(executor, workers, scheduler, progress, **options)


def new_run_folder() -> Path:
    """A run folder that does not exist yet: ``runs/benchmark-<date>-<time>[-k]`` here."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(RUNS, f"benchmark-{stamp}")
    k = 2
    while path.exists():
        path = Path(RUNS, f"benchmark-{stamp}-{k}")
        k += 1
    return path


def select_task(frame: pd.DataFrame, task: str | None) -> pd.DataFrame:
    """Rows of one scored task, without the ``task`` column (tables without one: as is).

    Parameters
    ----------
    frame : DataFrame
        ``results`` or ``predictions`` of a run.
    task : str or None
        The task; ``None``: :data:`HEADLINE_TASK` if present, else the first one.

    Raises
    ------
    BoneflareError
        If ``task`` is named but the tables have no such task.

    """
    from boneflare.simulator.errors import BoneflareError

    if "task" not in frame.columns:
        if task is not None:
            raise BoneflareError(f"this run's results have one task only; got task={task!r}")
        return frame
    tasks = list(dict.fromkeys(frame["task"].astype(str)))
    if task is None:
        task = HEADLINE_TASK if HEADLINE_TASK in tasks else (tasks[0] if tasks else None)
    if task not in tasks and tasks:
        raise BoneflareError(f"unknown task {task!r}: this run has {', '.join(tasks)}")
    kept = frame[frame["task"].astype(str) == task] if tasks else frame
    return kept.drop(columns="task").reset_index(drop=True)


@dataclass
class BenchmarkRun:
    """A finished benchmark run, as :func:`run_benchmark` and :func:`load_run` return it.

    Attributes
    ----------
    path : Path
        The run folder.
    results : DataFrame
        Long: scenario, classifier, replicate, metric, value (docs/results.md).
    predictions : DataFrame
        One row per classifier and episode: P(flare), call, label.
    failures : DataFrame
        What failed: classifier, unit, stage, message.
    provenance : dict
        ``provenance.json``: versions, scenarios, seeds, every classifier's class,
        parameters and distribution, sessions and timings.

    """

    path: Path
    results: pd.DataFrame
    predictions: pd.DataFrame
    failures: pd.DataFrame
    provenance: dict[str, Any] = field(repr=False)

    @property
    def reference(self) -> str | None:
        """The reference classifier of paired differences (None when not run)."""
        return self.provenance.get("experiment", {}).get("reference")

    @property
    def classifiers(self) -> list[str]:
        """The classifiers' labels, in the run's order."""
        return [c["label"] for c in self.provenance.get("experiment", {}).get("classifiers", [])]

    @property
    def timings(self) -> dict[str, Any]:
        """The time breakdown of the latest session (empty for an unfinished run)."""
        return dict(self.provenance.get("timings", {}))

    def summary(self, task: str | None = None) -> pd.DataFrame:
        """Every metric's mean, Monte Carlo SE and 95% interval per scenario and classifier.

        See :func:`boneflare.benchmarks.aggregate.summarise`; ``task`` as in
        :meth:`leaderboard`.
        """
        from boneflare.benchmarks.aggregate import summarise

        return summarise(select_task(self.results, task))

    def leaderboard(self, task: str | None = None, metric: str = "roc_auc") -> pd.DataFrame:
        """The classifiers ranked within each scenario, best first.

        Parameters
        ----------
        task : str or None
            ``"decision_point"`` or ``"all_episodes"`` when the results have a ``task``
            column; ``None``: the headline task (``decision_point``) if present.
        metric : str
            Metric to rank by (default ROC AUC).

        Returns
        -------
        DataFrame
            One row per (scenario, classifier): ``<metric>_mean`` and ``<metric>_mcse``
            of every metric (:func:`boneflare.benchmarks.aggregate.leaderboard`).

        """
        from boneflare.benchmarks.aggregate import leaderboard

        return leaderboard(self.summary(task), metric)


def load_run(path: str | Path) -> BenchmarkRun:
    """Read a finished benchmark run from its folder.

    Raises
    ------
    BoneflareError
        If the folder holds no benchmark run, or one that never finished (resume it).

    """
    from boneflare.benchmarks.harness.store import RunStore

    store = RunStore(path)
    tables = store.load()
    return BenchmarkRun(
        path=store.path,
        results=tables["results"],
        predictions=tables["predictions"],
        failures=tables["failures"],
        provenance=store.read_provenance(),
    )


def run_benchmark(
    classifiers: str | Sequence[ClassifierSpec] | Mapping[str, ClassifierSpec] = "all",
    scenarios: ScenarioSpec | Sequence[ScenarioSpec] = "paper",
    *,
    quick: bool = False,
    replicates: int | None = None,
    patients: int | None = None,
    seed: int = 0,
    overrides: Sequence[str] = (),
    grid: Sequence[str] | Mapping[str, Sequence[Any]] = (),
    train_scenario: ScenarioSpec | None = None,
    closed_loop: bool = False,
    reference: str | None = None,
    engine: str = "batched",
    max_training_patients: int | None = None,
    out: str | Path | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = False,
    resume: bool = False,
    force: bool = False,
    on_event: Callable[[str], None] | None = None,
) -> BenchmarkRun:
    """Score classifiers on simulated cohorts, as ``boneflare benchmark`` does.

    Parameters
    ----------
    classifiers : str, sequence or mapping
        ``"all"`` or comma-separated specs as ``--classifiers`` takes them (registered
        names or ``package.module:Class``, each with ``[param=value,...]``); or a list
        mixing such specs, classifier instances and classes; or a mapping from the
        labels to show to them.
    scenarios : str, Path, Scenario or a sequence of them
        Test scenarios (preset names, TOML paths or scenario objects).
    quick : bool
        Default sizes of ``--quick`` (:data:`QUICK`) instead of :data:`DEFAULTS`.
    replicates, patients, max_training_patients : int, optional
        Override the sizes.
    seed, overrides, grid, train_scenario, closed_loop, reference, engine
        As the options of the same names (:class:`~boneflare.benchmarks.harness.BenchmarkConfig`).
    out : str or Path, optional
        The run folder (default: a new ``runs/benchmark-*`` in the working directory).
    executor, workers, scheduler, progress
        Where to run (default: local processes, one per CPU; no progress bars).
    resume, force, on_event
        As :func:`boneflare.benchmarks.harness.run_benchmark`.

    Returns
    -------
    BenchmarkRun
        The run, as :func:`load_run` reads it back.

    Raises
    ------
    BoneflareError
        On any bad input, before any work.

    """
    from boneflare.benchmarks.harness import run_benchmark as run_harness
    from boneflare.benchmarks.harness.store import RunStore

    config = benchmark_config(
        classifiers,
        scenarios,
        quick=quick,
        replicates=replicates,
        patients=patients,
        max_training_patients=max_training_patients,
        seed=seed,
        overrides=list(overrides),
        grid=grid,
        train_scenario=train_scenario,
        closed_loop=closed_loop,
        reference=reference,
        engine=engine,
    )
    folder = Path(out) if out is not None else new_run_folder()
    result = run_harness(
        config,
        folder,
        execution=execution(executor, workers, scheduler, progress),
        resume=resume,
        force=force,
        on_event=on_event,
    )
    return BenchmarkRun(
        path=result.path,
        results=result.results,
        predictions=result.predictions,
        failures=result.failures,
        provenance=RunStore(result.path).read_provenance(),
    )

"""Running a benchmark: plan, train, score every unit, store, consolidate.

:func:`run_benchmark` is the Python API behind ``boneflare benchmark``. It checks the
whole configuration before doing any work, then

1. fits every learned classifier once per training scenario (each fit stored in
   ``models/`` as soon as it is done; a resumed run reuses them);
2. runs the units (scenario point x replicate) on the chosen executor, storing each
   as soon as it finishes; a resumed run skips the stored ones;
3. rebuilds the long tables from the stored units and records timings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from boneflare.benchmarks.harness.cells import close_cells
from boneflare.benchmarks.harness.execute import Execution, Runner, runner
from boneflare.benchmarks.harness.fitcache import FitCache, cache_key
from boneflare.benchmarks.harness.plan import BenchmarkConfig, Plan, TrainJob, make_plan
from boneflare.benchmarks.harness.shipping import Kept
from boneflare.benchmarks.harness.store import RunStore, utc_now
from boneflare.benchmarks.harness.timing import Stopwatch, breakdown
from boneflare.benchmarks.harness.unit import FitOutput, UnitOutput, WorkContext, fit_job, run_unit
from boneflare.benchmarks.harness.versions import BONEFLARE, changed, run_versions
from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.memory import check_fits, cohort_bytes
from boneflare.simulator.progress import progress_bar


@dataclass
class BenchmarkResult:
    """A finished run, as :func:`run_benchmark` returns it.

    Attributes
    ----------
    path : Path
        The run folder.
    plan : Plan
        What was run.
    results, predictions, failures : DataFrame
        The consolidated long tables (see :mod:`boneflare.benchmarks.harness.store`).
    timings : dict
        This session's time breakdown (:func:`boneflare.benchmarks.harness.timing.breakdown`).
    units_run, units_skipped : int
        Units computed in this session, and units found already stored.

    """

    path: Path
    plan: Plan
    results: pd.DataFrame
    predictions: pd.DataFrame
    failures: pd.DataFrame
    timings: dict[str, Any]
    units_run: int
    units_skipped: int


@dataclass(frozen=True)
class _FitContext:
    prototypes: dict[str, FlareClassifier]
    engine: str
    timeout: float


def _fit_task(job: TrainJob, context: _FitContext) -> FitOutput:
    return fit_job(job, context.prototypes[job.classifier], context.engine, context.timeout)


def _progress(total: int, label: str, enabled: bool | None) -> Callable[[int | None], None]:
    """Return ``update(n)`` (``update(None)`` closes) for a progress bar, or a no-op."""
    return progress_bar(total, enabled, unit=label.split()[-1], desc=label)


def _drain(
    outputs: Iterator[Any],
    bar: Callable[[int | None], None],
    store_one: Callable[[Any], None],
) -> None:
    """Store every output as it arrives, advancing the progress bar; close it at the end."""
    try:
        for output in outputs:
            store_one(output)
            bar(1)
    finally:
        bar(None)


def run_benchmark(
    config: BenchmarkConfig,
    out: str | Path,
    *,
    execution: Execution | None = None,
    resume: bool = False,
    force: bool = False,
    rerun_changed: bool = False,
    on_event: Callable[[str], None] | None = None,
    command: Sequence[str] | None = None,
) -> BenchmarkResult:
    """Run (or resume) a benchmark into the folder ``out`` and return its tables.

    Parameters
    ----------
    config : BenchmarkConfig
        What to run.
    out : str or Path
        The run folder: must not exist (or be empty) unless ``resume`` or ``force``.
    execution : Execution, optional
        Where to run (default: this process).
    resume : bool
        Continue the run stored in ``out`` (same configuration), skipping stored work.
    force : bool
        Replace the run stored in ``out`` (only the files it wrote are deleted).
    rerun_changed : bool
        On resume, recompute every unit (and refit the models) of the classifiers
        whose distribution's version changed since the run started, instead of
        refusing to resume.
    on_event : callable, optional
        Called with one-line messages (what is skipped, what runs).
    command : sequence of str, optional
        The command line that started this session, recorded in the provenance.

    Raises
    ------
    BoneflareError
        On bad input, an existing folder without ``resume``/``force``, a resumed folder
        of another configuration or (without ``rerun_changed``) of other classifier
        versions, or an unreachable Dask scheduler; nothing is computed.

    """
    started = time.perf_counter()
    say = on_event or (lambda message: None)
    execution = execution or Execution()
    execution.check()
    plan = make_plan(config, execution.timeout)
    _check_memory(plan, execution)
    store = RunStore(out)
    parent = Stopwatch()
    versions = run_versions(plan.classifiers)
    with runner(execution) as run:
        if resume:
            info = store.open_resume(plan.experiment(), say)
            _check_versions(plan, store, info, versions, rerun_changed, say)
        else:
            store.create(plan.experiment(), plan.seeds(), force=force)
            info = store.read_provenance()
        info["classifier_versions"] = versions
        session: dict[str, Any] = {
            "started": utc_now(),
            "resumed": resume,
            "executor": execution.executor,
            "workers": execution.workers,
            "scheduler": execution.scheduler,
            "timeout": execution.timeout,
            "fit_cache": None if execution.fit_cache is None else str(execution.fit_cache),
            "command": list(command) if command is not None else None,
            "status": "running",
        }
        info["sessions"] = [*info.get("sessions", []), session]
        store.write_provenance(info)
        work = Stopwatch()
        stages = Stopwatch()
        with stages("training"):
            fits = _train(plan, store, run, execution, work, parent, say)
        context = WorkContext(
            plan=plan,
            models={k: Kept(f.model) for k, f in fits.items() if f.model is not None},
            fit_seconds={k: f.seconds for k, f in fits.items() if f.model is not None},
            timeout=execution.timeout,
        )
        done = store.done_units()
        pending = [u for u in plan.units if u.name not in done]
        skipped = len(plan.units) - len(pending)
        if skipped:
            say(f"resuming: {skipped} of {len(plan.units)} units already stored")

        fresh: dict[str, UnitOutput] = {}

        def store_unit(output: UnitOutput) -> None:
            work.merge(output.timings)
            with parent("store"):
                store.write_unit(output)
            fresh[output.name] = output

        bar = _progress(len(pending), "scoring units", execution.progress)
        with stages("scoring"):
            try:
                _drain(run.map_unordered(run_unit, pending, context), bar, store_unit)
            finally:
                close_cells()  # those of units scored in this process (one worker)
        workers = run.workers
    with parent("consolidate"), stages("consolidating"):
        tables = store.consolidate([u.name for u in plan.units], fresh)
    work.merge(parent.seconds)
    timings = breakdown(work.seconds, time.perf_counter() - started, workers, stages.seconds)
    session |= {
        "status": "finished",
        "finished": utc_now(),
        "units_run": len(pending),
        "units_skipped": skipped,
        "timings": timings,
    }
    info["status"] = "complete"
    info["timings"] = timings
    store.write_provenance(info)
    return BenchmarkResult(
        path=store.path,
        plan=plan,
        results=tables["results"],
        predictions=tables["predictions"],
        failures=tables["failures"],
        timings=timings,
        units_run=len(pending),
        units_skipped=skipped,
    )


def _check_memory(plan: Plan, execution: Execution) -> None:
    """Refuse up front a run whose workers would need more memory than the machine has.

    Each local worker holds one cohort at a time (a test cohort, or the largest
    training cohort) twice: its tables and the observed batch built from them. On
    Dask the cohorts live on the cluster's machines, which are not checked here.
    """
    if execution.executor != "local":
        return
    largest = max([plan.config.patients, *(j.patients for j in plan.jobs)])
    check_fits(
        execution.workers * 2 * cohort_bytes(largest),
        f"this benchmark ({execution.workers} worker(s), cohorts of up to {largest:,} patients)",
        "use fewer --patients or --workers",
    )


def _check_versions(
    plan: Plan,
    store: RunStore,
    info: dict[str, Any],
    versions: dict[str, str],
    rerun_changed: bool,
    say: Callable[[str], None],
) -> None:
    """Refuse to resume with changed versions, or forget what they computed.

    Raises
    ------
    BoneflareError
        If a version changed and ``rerun_changed`` is false.

    """
    moved = changed(info.get("classifier_versions", {}), versions)
    if not moved:
        return
    if not rerun_changed:
        name, old, new = moved[0]
        raise BoneflareError(
            f"{name} was {old} when the run started and is {new} now; resume with "
            "--rerun-changed to recompute its units, or start a new run"
        )
    names = {name for name, _, _ in moved}
    everything = BONEFLARE in names
    for name, old, new in moved:
        say(f"{name} changed from {old} to {new}: recomputing its units")
    store.forget(
        units=True,
        models=[j.key for j in plan.jobs if everything or j.classifier in names],
    )


def _train(
    plan: Plan,
    store: RunStore,
    run: Runner,
    execution: Execution,
    work: Stopwatch,
    parent: Stopwatch,
    say: Callable[[str], None],
) -> dict[str, FitOutput]:
    """Fit the learned classifiers not yet stored; return every fit of the plan by key."""
    fits = store.read_models()
    # longest first: the slowest fit starts at once, the others fill the remaining workers
    pending = sorted(
        (j for j in plan.jobs if j.key not in fits), key=lambda j: j.patients, reverse=True
    )
    if fits and plan.jobs:
        say(f"resuming: {len(plan.jobs) - len(pending)} of {len(plan.jobs)} fitted models stored")
    prototypes = {e.label: e.prototype for e in plan.classifiers}
    context = _FitContext(prototypes, plan.config.engine, execution.timeout)
    cache = FitCache(execution.fit_cache) if execution.fit_cache is not None else None
    entries = {e.label: e for e in plan.classifiers}
    keys = {
        j.key: cache_key(j, entries[j.classifier], plan.config.engine) if cache else None
        for j in pending
    }

    def store_fit(output: FitOutput, fresh: bool = True) -> None:
        work.merge(output.timings)
        with parent("store"):
            store.write_model(output)
            if cache is not None and fresh:
                cache.put(keys[output.key], output)
        fits[output.key] = output

    if cache is not None:
        cached = [c for c in (cache.get(keys[j.key], j.key) for j in pending) if c is not None]
        for output in cached:
            store_fit(output, fresh=False)
        if cached:
            say(f"reusing {len(cached)} fitted model(s) from {cache.folder}")
        pending = [j for j in pending if j.key not in fits]

    bar = _progress(len(pending), "fitting models", execution.progress)
    _drain(run.map_unordered(_fit_task, pending, context), bar, store_fit)
    return {j.key: fits[j.key] for j in plan.jobs}

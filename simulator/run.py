"""Simulating cohorts: chunks of patients, worker processes, streaming, single patients.

A cohort is cut into chunks of consecutive patients. A chunk is simulated from its
draws alone (see :mod:`boneflare.simulator.draws`), so the tables of a cohort do not depend on
the chunk size, the number of workers or the executor; chunks are returned in order.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from boneflare.simulator import arena
from boneflare.simulator.allocator import keep_freed_memory
from boneflare.simulator.assembly import Assembly
from boneflare.simulator.choices import ENGINE_NAMES
from boneflare.simulator.cohort import make_baseline
from boneflare.simulator.draws import DRAW_BLOCK, draws_for_range
from boneflare.simulator.engine import ENGINES, DecisionPolicy, FollowUp
from boneflare.simulator.engine.history import observed_batch
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.latent import make_latent
from boneflare.simulator.memory import check_fits, cohort_bytes
from boneflare.simulator.observation import Patients
from boneflare.simulator.progress import progress_bar
from boneflare.simulator.scenarios.loader import load_scenario
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.schedule import make_schedule
from boneflare.simulator.tables import (
    CohortTables,
    cohort_columns,
    cohort_tables,
    decisions_columns,
)
from boneflare.simulator.validation import check_choice, check_count, check_seed

CHUNK_SIZE = 4 * DRAW_BLOCK
"""Patients per chunk of work (16,384): large enough to amortise the engine's per-event
overhead (a 65,536-patient chunk saves only a few per cent of CPU time), small enough
that the chunks in flight add little to the peak memory of a cohort held in memory."""

MAX_PATIENTS = 2**31 - 1
"""Largest cohort: patient identifiers are int32 (half the memory of int64 in ``labs``)."""

T = TypeVar("T")

ScenarioLike = Scenario | str | PathLike
"""A validated scenario, a preset name, or the path of a scenario TOML file."""


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """Return ``scenario`` itself, or load the preset or TOML file it names.

    Raises
    ------
    BoneflareError
        If it is neither a Scenario, nor a known preset, nor a valid scenario file.

    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | PathLike):
        return load_scenario(scenario)
    raise BoneflareError(
        f"a scenario must be a Scenario, a preset name or a .toml path, got {scenario!r}"
    )


@dataclass(frozen=True)
class RunSpec:
    """What to simulate, apart from which patients.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario.
    seed : int
        Non-negative integer; one seed gives identical tables.
    engine : str
        ``"batched"`` (default, fast) or ``"reference"`` (one process per patient).
    policy : DecisionPolicy or None
        Called at each episode; its calls are recorded in ``decisions``.
    closed_loop : bool
        Whether the policy's calls change what happens next.

    """

    scenario: Scenario
    seed: int = 0
    engine: str = "batched"
    policy: DecisionPolicy | None = None
    closed_loop: bool = False

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_choice("engine", self.engine, ENGINE_NAMES)
        if self.closed_loop and self.policy is None:
            raise BoneflareError("closed loop needs a decision policy")

    def provenance(self, n_patients: int, patient_id: int | None = None) -> dict[str, Any]:
        """What a cohort of ``n_patients`` (or the one patient ``patient_id``) was made from.

        The ``provenance.json`` written beside a cohort's tables: package and version,
        seed, size, engine, policy, closed loop, and the resolved scenario and its hash.
        """
        from boneflare.simulator import __version__
        from boneflare.simulator.scenarios import scenario_hash, scenario_to_dict

        return {
            "package": "boneflare",
            "version": __version__,
            "seed": self.seed,
            "patients": n_patients,
            "patient_id": patient_id,
            "engine": self.engine,
            "policy": self.policy.name if self.policy else None,
            "closed_loop": self.closed_loop,
            "scenario_hash": scenario_hash(self.scenario),
            "scenario": scenario_to_dict(self.scenario),
        }


def simulate_range(spec: RunSpec, start: int, stop: int) -> CohortTables:
    """Simulate patients ``start`` (inclusive) to ``stop`` (exclusive) and return their tables."""
    return cohort_tables(_follow_up(spec, start, stop))


def _follow_up(spec: RunSpec, start: int, stop: int) -> FollowUp:
    """The finished follow-up of patients ``start .. stop - 1``."""
    scenario = spec.scenario
    draws = draws_for_range(spec.seed, start, stop, scenario)
    baseline = make_baseline(scenario, spec.seed, start, draws)
    patients = Patients(scenario, baseline, make_latent(scenario, baseline, draws), draws)
    observer = observed_batch if spec.policy is not None else None
    followup = FollowUp(
        patients, make_schedule(scenario, draws), spec.policy, spec.closed_loop, observer
    )
    ENGINES[spec.engine](followup)
    return followup


def simulate_patient(
    scenario: RunSpec | ScenarioLike,
    patient_id: int,
    seed: int = 0,
    *,
    engine: str = "batched",
    policy: DecisionPolicy | None = None,
    closed_loop: bool = False,
) -> CohortTables:
    """Regenerate one patient alone: the same rows as in any cohort that contains it.

    Parameters
    ----------
    scenario : RunSpec, Scenario, str or Path
        A full :class:`RunSpec` (then ``seed``, ``engine``, ``policy`` and
        ``closed_loop`` are taken from it), or a scenario, preset name or TOML path.
    patient_id : int
        The patient's identifier (its position in any cohort of that seed).
    seed, engine, policy, closed_loop
        As in :func:`simulate`.

    Examples
    --------
    >>> from boneflare.simulator import simulate_patient
    >>> one = simulate_patient("paper", 12345, seed=7)
    >>> one.patients["patient_id"].tolist()
    [12345]

    """
    if isinstance(scenario, RunSpec):
        spec = scenario
    else:
        spec = RunSpec(as_scenario(scenario), seed, engine, policy, closed_loop)
    if patient_id < 0 or patient_id >= MAX_PATIENTS:
        raise BoneflareError(f"patient id must be from 0 to {MAX_PATIENTS - 1}, got {patient_id}")
    return simulate_range(spec, patient_id, patient_id + 1)


def _chunks(n_patients: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk_size, n_patients)) for lo in range(0, n_patients, chunk_size)]


def _validate_size(n_patients: int, workers: int, chunk_size: int) -> None:
    check_count("patients", n_patients, maximum=MAX_PATIENTS)
    check_count("workers", workers)
    if chunk_size < 1:
        raise BoneflareError(f"chunk size must be positive, got {chunk_size}")


def _process_pool(workers: int) -> cf.Executor:
    """A local process pool; ``fork`` where the platform has it.

    ``fork`` starts workers fast and works from scripts without a ``__main__`` guard;
    the parent holds no threads of ours when it forks (the progress bar's monitor
    thread is disabled). Workers keep the memory they free for their next chunk
    (:mod:`boneflare.simulator.allocator`).
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=keep_freed_memory
    )


def _write_range(spec: RunSpec, lo: int, hi: int, out: Path, chunk_size: int) -> dict[str, int]:
    """Simulate patients ``lo .. hi - 1`` and write them as their chunk's part; count rows."""
    from boneflare.simulator.io import write_part

    followup = _follow_up(spec, lo, hi)
    tables = {**cohort_columns(followup), "decisions": decisions_columns(followup)}
    return write_part(tables, out, lo // chunk_size)


def _in_order(
    task: Callable[..., T],
    spec: RunSpec,
    n_patients: int,
    workers: int,
    chunk_size: int,
    executor: cf.Executor | None,
    progress: bool | None,
    *extra: Any,
) -> Iterator[T]:
    """Yield ``task(spec, lo, hi, *extra)`` for every chunk, in patient order.

    Chunks run in this process (one worker, no executor) or on a pool that keeps at
    most two chunks per worker in flight, so that finished chunks wait in the parent
    only briefly and a slow chunk never lets the others pile up.
    """
    _validate_size(n_patients, workers, chunk_size)
    chunks = [(lo, hi, *extra) for lo, hi in _chunks(n_patients, chunk_size)]
    bar = progress_bar(n_patients, progress, unit="patient", unit_scale=True)
    try:
        if executor is None and workers == 1:
            for args in chunks:
                value = task(spec, *args)
                bar(args[1] - args[0])
                yield value
            return
        own = executor is None
        pool = _process_pool(workers) if own else executor
        try:
            window = 2 * max(workers, 2)
            pending: deque = deque()
            queue = iter(chunks)
            for args in queue:
                pending.append((args[1] - args[0], pool.submit(task, spec, *args)))
                if len(pending) >= window:
                    break
            while pending:
                size, future = pending.popleft()
                value = future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append((nxt[1] - nxt[0], pool.submit(task, spec, *nxt)))
                bar(size)
                yield value
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar(None)


def iter_chunks(
    spec: RunSpec,
    n_patients: int,
    *,
    workers: int = 1,
    chunk_size: int = CHUNK_SIZE,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
) -> Iterator[CohortTables]:
    """Yield the tables of consecutive chunks of a cohort, in patient order.

    Parameters
    ----------
    spec : RunSpec
        What to simulate.
    n_patients : int
        Cohort size (patients ``0 .. n_patients - 1``).
    workers : int
        Worker processes of a local pool (1: in this process).
    chunk_size : int
        Patients per chunk; changes memory and speed, never the tables.
    executor : concurrent.futures.Executor, optional
        Run chunks there instead (e.g. a Dask ``Client.get_executor()``).
    progress : bool or None
        Show a progress bar; ``None``: only when standard error is a terminal.

    """
    yield from _in_order(simulate_range, spec, n_patients, workers, chunk_size, executor, progress)


def write_simulation(
    spec: RunSpec,
    n_patients: int,
    out: str | PathLike,
    *,
    fmt: str = "parquet",
    force: bool = False,
    workers: int = 1,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
    patient_id: int | None = None,
) -> dict[str, int]:
    """Simulate a cohort straight to disk, any size; return the rows of each table.

    With Parquet, each worker writes the part files of its own chunks
    (:func:`boneflare.simulator.io.write_part`): this process only counts rows, so its
    memory stays flat and nothing waits on it. With CSV, chunks are appended here, in
    order. The files do not depend on ``workers``; the part boundaries follow
    ``chunk_size``.

    Parameters
    ----------
    spec : RunSpec
        What to simulate.
    n_patients : int
        Cohort size (ignored with ``patient_id``).
    out : str or Path
        The folder (see :func:`boneflare.simulator.io.prepare_folder`).
    fmt, force
        Table format, and whether an existing cohort folder may be replaced.
    workers, chunk_size, progress
        As in :func:`iter_chunks`.
    patient_id : int, optional
        Write this one patient alone (:func:`simulate_patient`).

    """
    from boneflare.simulator.io import TableWriter, prepare_folder, write_provenance

    folder = prepare_folder(out, fmt, force)
    with TableWriter(folder, fmt) as writer:
        if patient_id is not None:
            writer.write(simulate_patient(spec, patient_id))
            n_patients = 1
        elif fmt == "parquet":
            parts = (folder, chunk_size)
            for rows in _in_order(
                _write_range, spec, n_patients, workers, chunk_size, None, progress, *parts
            ):
                writer.add(rows)
        else:
            for tables in iter_chunks(
                spec, n_patients, workers=workers, chunk_size=chunk_size, progress=progress
            ):
                writer.write(tables)
    write_provenance(folder, spec.provenance(n_patients, patient_id), fmt, writer.rows)
    return writer.rows


def simulate(
    scenario: ScenarioLike,
    n_patients: int,
    seed: int = 0,
    *,
    engine: str = "batched",
    policy: DecisionPolicy | None = None,
    closed_loop: bool = False,
    workers: int = 1,
    chunk_size: int = CHUNK_SIZE,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
) -> CohortTables:
    """Simulate a cohort held in memory and return its tables.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A validated scenario, a preset name (``"paper"``) or the path of a TOML file.
    n_patients : int
        Cohort size.
    seed : int
        Non-negative; one seed gives identical tables whatever the other options.
    engine, policy, closed_loop
        As in :class:`RunSpec`.
    workers, chunk_size, executor, progress
        As in :func:`iter_chunks` (speed and memory, never the tables).

    Raises
    ------
    BoneflareError
        On bad input, or when the cohort's estimated memory
        (:func:`boneflare.simulator.memory.cohort_bytes`) exceeds the machine's; stream
        a large cohort to disk with :func:`iter_chunks` instead.

    Examples
    --------
    >>> from boneflare.simulator import load_scenario, simulate
    >>> tables = simulate(load_scenario("paper"), 1000, seed=7)
    >>> len(tables.patients)
    1000
    >>> len(simulate("paper", 1000, seed=7).patients)
    1000

    """
    if isinstance(n_patients, int) and not isinstance(n_patients, bool):
        check_fits(
            cohort_bytes(n_patients),
            f"a cohort of {n_patients:,} patients in memory",
            "write it to disk instead (boneflare simulate --out)",
        )
    spec = RunSpec(as_scenario(scenario), seed, engine, policy, closed_loop)
    options = dict(workers=workers, chunk_size=chunk_size, executor=executor, progress=progress)
    return assemble(spec, n_patients, **options)


def assemble(spec: RunSpec, n_patients: int, **options: Any) -> CohortTables:
    """Simulate a cohort into memory, each chunk copied into place as it arrives.

    ``options`` are those of :func:`iter_chunks`. On a local pool of several workers
    without a decision policy (Linux), workers write their chunks in place
    (:mod:`boneflare.simulator.arena`); otherwise chunks come back to this process and
    are copied into preallocated columns (:class:`boneflare.simulator.assembly.Assembly`).
    The tables are the same either way.
    """
    if _in_place(spec, options):
        return _assemble_in_place(spec, n_patients, **options)
    assembly = Assembly(n_patients)
    for tables in iter_chunks(spec, n_patients, **options):
        assembly.add(tables)
    return assembly.result()


def _in_place(spec: RunSpec, options: dict[str, Any]) -> bool:
    """Whether workers can write the cohort in place (see :func:`assemble`)."""
    return (
        arena.available()
        and options.get("executor") is None
        and options.get("workers", 1) > 1
        and spec.policy is None
    )


def _fill_range(spec: RunSpec, lo: int, hi: int, layout: arena.Layout) -> dict[str, int]:
    """Simulate patients ``lo .. hi - 1`` into their rows of the shared file; count rows.

    A chunk that fails, however, is marked failed there first: later chunks wait for
    its row counts (:func:`boneflare.simulator.arena.write_chunk`).
    """
    try:
        return arena.write_chunk(cohort_columns(_follow_up(spec, lo, hi)), layout, lo)
    except BaseException:
        arena.fail_chunk(layout, lo)
        raise


def _assemble_in_place(
    spec: RunSpec,
    n_patients: int,
    *,
    workers: int = 1,
    chunk_size: int = CHUNK_SIZE,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
) -> CohortTables:
    _validate_size(n_patients, workers, chunk_size)
    with arena.Arena(spec.scenario, n_patients, chunk_size) as shared:
        for rows in _in_order(
            _fill_range, spec, n_patients, workers, chunk_size, executor, progress, shared.layout
        ):
            shared.add(rows)
        return shared.result()

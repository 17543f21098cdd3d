"""An in-memory cohort that pool workers write in place: one shared file, no pickles.

With a local process pool, each chunk's tables used to travel back to the parent as a
pickle (about 13 MB per 16,384 patients), be unpickled there, and be copied once more
into the cohort's columns (:mod:`boneflare.simulator.assembly`): a quarter of a run's
CPU time, all of it in the one parent process. Here the parent instead creates and
maps one anonymous in-memory file (``memfd_create``) holding a region per column of
every table, sized for the most rows the cohort can have (:func:`rows_per_patient`),
and a small header of each chunk's row counts. Each worker, its chunk simulated,
publishes the chunk's row counts in the header, waits until every earlier chunk has
published its own (those chunks were handed out before it, so they are running or
done), and writes its columns straight to their final rows (``pwrite`` through
``/proc/<parent>/fd/<n>``): rows stay in patient order, as in the chunk tables, and
nobody moves them again. The parent only adds up the counts; at the end it frees the
unused tails and wraps the regions as the cohort's columns, without a copy. A chunk
that fails marks itself failed in the header, so the chunks waiting for it fail too
instead of waiting forever.

The file is unlinked from birth: it disappears with the last descriptor and mapping
(the parent's, once the tables are gone), whatever happens to the run. Linux only;
elsewhere, with an executor (Dask) or a decision policy (whose ``decisions`` table has
a text column), :func:`boneflare.simulator.run.assemble` uses the pickling path.
"""

from __future__ import annotations

import mmap
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from boneflare.simulator import draws as D
from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.table_schema import TABLES, empty_table
from boneflare.simulator.tables import Coded, CohortTables, Columns
from boneflare.simulator.vocabulary import ANALYTES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

PAGE: Final[int] = mmap.PAGESIZE
"""Regions start on a page boundary, so that their unused tails can be freed."""

PENDING, COUNTED, FAILED = 0, 1, 2
"""States of a chunk in the header: not yet counted, rows counted, failed."""

WAIT_SECONDS: Final[tuple[float, float]] = (0.0002, 0.005)
"""First and longest pause between two looks at the header while earlier chunks run."""

COUNTS_BYTES: Final[int] = len(TABLES) * np.dtype(np.int64).itemsize
"""Bytes of one chunk's row counts in the header (one int64 per table)."""


def available() -> bool:
    """Whether this platform can share an anonymous file by its ``/proc`` path."""
    return sys.platform.startswith("linux") and hasattr(os, "memfd_create")


def rows_per_patient(scenario: Scenario) -> dict[str, int]:
    """The most rows one patient can add to each table (no policy: no decisions).

    A patient has at most one row per planned lab slot and analyte, one per planned CT
    and one episode per follow-up CT (:func:`boneflare.simulator.draws.lab_slots`,
    :func:`~boneflare.simulator.draws.ct_slots`).
    """
    scans = D.ct_slots(scenario)
    return {
        "patients": 1,
        "labs": len(ANALYTES) * D.lab_slots(scenario),
        "scans": scans,
        "episodes": scans,
        "truth": 1,
        "episode_truth": scans,
        "decisions": 0,
    }


def _page_up(nbytes: int) -> int:
    """``nbytes`` rounded up to a whole number of pages."""
    return -(-nbytes // PAGE) * PAGE


def _numpy_dtype(dtype: str | tuple[str, ...]) -> np.dtype:
    """The dtype a column is stored with: a categorical as its int8 codes."""
    return np.dtype(np.int8) if isinstance(dtype, tuple) else np.dtype(dtype)


@dataclass(frozen=True)
class Region:
    """Where one column lives in the file: byte offset, dtype and rows per chunk slot."""

    offset: int
    dtype: np.dtype
    slot_rows: int
    capacity: int


@dataclass(frozen=True)
class Layout:
    """What a worker needs to write its chunk: the file's path and every column's region.

    Parameters
    ----------
    path : str
        ``/proc/<parent pid>/fd/<n>``: the parent's descriptor of the file.
    owner : int
        The parent's process id (a worker whose parent is gone stops waiting).
    chunk_size : int
        Patients per chunk; chunk ``k`` starts at patient ``k * chunk_size``.
    chunks : int
        Chunks of the cohort.
    regions : dict of (table, column) to Region
        The region of every column of every table.
    size : int
        Bytes of the whole file.

    Notes
    -----
    The file opens with the header: each chunk's state (int8: ``PENDING``,
    ``COUNTED`` or ``FAILED``), then its row count in every table (int64, in
    ``TABLES`` order), chunk by chunk.
    """

    path: str
    owner: int
    chunk_size: int
    chunks: int
    regions: dict[tuple[str, str], Region]
    size: int

    @property
    def counts_offset(self) -> int:
        """Byte offset of the row counts in the header (after the states)."""
        return _counts_offset(self.chunks)

    @staticmethod
    def plan(path: str, scenario: Scenario, n_patients: int, chunk_size: int) -> Layout:
        """Lay out the header and every column for ``n_patients`` in chunks of ``chunk_size``."""
        chunks = -(-n_patients // chunk_size)
        bound = rows_per_patient(scenario)
        header = _counts_offset(chunks) + chunks * COUNTS_BYTES
        regions, offset = {}, _page_up(header)
        for table, columns in TABLES.items():
            slot_rows = bound[table] * chunk_size
            for column, spec in columns.items():
                dtype = _numpy_dtype(spec.dtype)
                capacity = slot_rows * chunks
                regions[(table, column)] = Region(offset, dtype, slot_rows, capacity)
                offset += _page_up(capacity * dtype.itemsize)
        return Layout(path, os.getpid(), chunk_size, chunks, regions, offset)


def _column_values(values: np.ndarray | Coded, dtype: np.dtype, name: str) -> np.ndarray:
    """A column as the array the layout stores (a categorical's codes), contiguous."""
    array = values.codes if isinstance(values, Coded) else np.asarray(values)
    if array.dtype != dtype:
        raise TypeError(f"column {name!r} is {array.dtype}, the layout says {dtype}")
    return np.ascontiguousarray(array)


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    """``pwrite`` all of ``data`` at ``offset`` (a write may take only part of it)."""
    while data.nbytes:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def write_chunk(tables: dict[str, Columns], layout: Layout, lo: int) -> dict[str, int]:
    """Write one chunk's columns to their final rows; return the rows of each table.

    ``tables`` is what :func:`~boneflare.simulator.tables.cohort_columns` returns. The
    chunk's row counts are published first; the rows it goes to follow those of every
    earlier chunk, so it waits for their counts (:func:`_rows_before`).

    Raises
    ------
    ValueError
        If a table has more rows than the bound of :func:`rows_per_patient` allows a
        chunk (the bound would be wrong: nothing is written).
    RuntimeError
        If an earlier chunk failed, or the parent is gone.
    """
    chunk = lo // layout.chunk_size
    fd = os.open(layout.path, os.O_RDWR)
    try:
        rows = {table: len(next(iter(columns.values()), ())) for table, columns in tables.items()}
        for table, n in rows.items():
            room = layout.regions[(table, next(iter(TABLES[table])))].slot_rows
            if n > room:
                raise ValueError(f"{table}: {n} rows in a chunk, room for {room}")
        counts = np.array([rows.get(table, 0) for table in TABLES], dtype=np.int64)
        _write_all(fd, memoryview(counts).cast("B"), _counts_at(layout, chunk))
        _write_all(fd, memoryview(bytes([COUNTED])), chunk)
        before = dict(zip(TABLES, _rows_before(fd, layout, chunk).tolist(), strict=True))
        for table, columns in tables.items():
            if not rows[table]:
                continue
            for column, values in columns.items():
                region = layout.regions[(table, column)]
                array = _column_values(values, region.dtype, column)
                at = region.offset + before[table] * region.dtype.itemsize
                _write_all(fd, memoryview(array).cast("B"), at)
        return rows
    finally:
        os.close(fd)


def fail_chunk(layout: Layout, lo: int) -> None:
    """Mark the chunk starting at patient ``lo`` failed, so that later chunks stop waiting."""
    try:
        fd = os.open(layout.path, os.O_RDWR)
    except OSError:  # the parent, and the file with it, is gone: nobody waits
        return
    try:
        _write_all(fd, memoryview(bytes([FAILED])), lo // layout.chunk_size)
    finally:
        os.close(fd)


def _counts_offset(chunks: int) -> int:
    """Byte offset of the row counts in the header: after one state byte per chunk, aligned."""
    return -(-chunks // 8) * 8


def _counts_at(layout: Layout, chunk: int) -> int:
    """Byte offset of a chunk's row counts in the header."""
    return layout.counts_offset + chunk * COUNTS_BYTES


def _rows_before(fd: int, layout: Layout, chunk: int) -> np.ndarray:
    """Rows of every table in the chunks before ``chunk``, once all of them are counted.

    Those chunks were handed out before this one (a pool takes its tasks in order), so
    each is running or done; chunk 0 waits for nothing.
    """
    pause = WAIT_SECONDS[0]
    while True:
        states = np.frombuffer(os.pread(fd, chunk, 0), dtype=np.int8)
        if (states == FAILED).any():
            raise RuntimeError("an earlier chunk of the cohort failed")
        if (states == COUNTED).all():
            break
        if os.getppid() != layout.owner:
            raise RuntimeError("the process that started the run is gone")
        time.sleep(pause)
        pause = min(2 * pause, WAIT_SECONDS[1])
    counts = np.frombuffer(os.pread(fd, chunk * COUNTS_BYTES, layout.counts_offset), np.int64)
    return counts.reshape(chunk, len(TABLES)).sum(axis=0)


class Arena:
    """The shared file of one in-memory run, created by the parent before the chunks.

    Use it as a context manager: leaving closes the parent's descriptor, and after a
    failure its mapping too (the file is freed once the tables built from it are gone).
    The parent only adds up each chunk's rows as they arrive (:meth:`add`, in patient
    order); the workers write the rows where they belong.
    """

    def __init__(self, scenario: Scenario, n_patients: int, chunk_size: int) -> None:
        self.fd = os.memfd_create("boneflare-cohort", os.MFD_CLOEXEC)
        path = f"/proc/{os.getpid()}/fd/{self.fd}"
        self.layout = Layout.plan(path, scenario, n_patients, chunk_size)
        os.ftruncate(self.fd, max(self.layout.size, PAGE))  # sparse: pages come on write
        self.memory = mmap.mmap(self.fd, max(self.layout.size, PAGE))
        self.columns = {
            key: np.frombuffer(self.memory, region.dtype, region.capacity, region.offset)
            for key, region in self.layout.regions.items()
            if region.capacity
        }
        self.rows = dict.fromkeys(TABLES, 0)  # rows written so far, per table

    def __enter__(self) -> Arena:
        return self

    def __exit__(self, failed: type[BaseException] | None, *exc: object) -> None:
        self.close()
        if failed is not None:
            self.columns.clear()
            self.memory.close()

    def close(self) -> None:
        """Close the parent's descriptor (idempotent; the mapping keeps the file)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def add(self, rows: dict[str, int]) -> None:
        """Count the next chunk's rows (its worker wrote them behind the previous chunk's)."""
        for table, count in rows.items():
            self.rows[table] += count

    def result(self) -> CohortTables:
        """Free the unused tails and return the cohort's tables (views of the file)."""
        self.close()
        return CohortTables(**{table: self._table(table) for table in TABLES})

    def _table(self, table: str) -> pd.DataFrame:
        """One table as views of its packed columns (the empty table if it has no rows)."""
        data: dict[str, Any] = {}
        for column, spec in TABLES[table].items():
            packed = self._packed((table, column))
            if packed is None:
                return empty_table(table)
            if isinstance(spec.dtype, tuple):
                packed = pd.Categorical.from_codes(packed, dtype=spec.pandas_dtype())
            data[column] = packed
        return pd.DataFrame(data, copy=False)

    def _packed(self, key: tuple[str, str]) -> np.ndarray | None:
        """The packed rows of a column (None if it has none); its unused tail is freed."""
        filled = self.rows[key[0]] if key in self.columns else 0
        if not filled:
            return None
        region = self.layout.regions[key]
        itemsize = region.dtype.itemsize
        tail = _page_up(region.offset + filled * itemsize)
        end = region.offset + _page_up(region.capacity * itemsize)
        if end > tail:
            self.memory.madvise(mmap.MADV_REMOVE, tail, end - tail)
        return self.columns[key][:filled]

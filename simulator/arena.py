"""An in-memory cohort that pool workers write in place: one shared file, no pickles.

With a local process pool, each chunk's tables used to travel back to the parent as a
pickle (about 13 MB per 16,384 patients), be unpickled there, and be copied once more
into the cohort's columns (:mod:`boneflare.simulator.assembly`): a quarter of a run's
CPU time, all of it in the one parent process. Here the parent instead creates and
maps one anonymous in-memory file (``memfd_create``) holding a region per column of
every table, sized for the most rows a chunk can have (:func:`rows_per_patient`), and
each worker writes its chunk's column arrays straight into its chunk's slot of every
region (``pwrite`` through ``/proc/<parent>/fd/<n>``) and returns only its row counts.
As each chunk's counts arrive, in patient order, the parent slides its rows down to
follow the previous chunk's (rows stay in patient order, as in the chunk tables); at
the end it frees the unused tails and wraps the packed regions as the cohort's
columns, without a copy.

The file is unlinked from birth: it disappears with the last descriptor and mapping
(the parent's, once the tables are gone), whatever happens to the run. Linux only;
elsewhere, with an executor (Dask) or a decision policy (whose ``decisions`` table has
a text column), :func:`boneflare.simulator.run.assemble` uses the pickling path.
"""

from __future__ import annotations

import mmap
import os
import sys
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from boneflare.simulator import draws as D
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.table_schema import TABLES, empty_table
from boneflare.simulator.tables import Coded, CohortTables, Columns
from boneflare.simulator.vocabulary import ANALYTES

PAGE: Final[int] = mmap.PAGESIZE
"""Regions start on a page boundary, so that their unused tails can be freed."""


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
    chunk_size : int
        Patients per chunk; chunk ``k`` starts at patient ``k * chunk_size``.
    regions : dict of (table, column) to Region
        The region of every column of every table.
    size : int
        Bytes of the whole file.
    """

    path: str
    chunk_size: int
    regions: dict[tuple[str, str], Region]
    size: int

    @staticmethod
    def plan(path: str, scenario: Scenario, n_patients: int, chunk_size: int) -> Layout:
        """Lay out every column for ``n_patients`` in chunks of ``chunk_size``."""
        chunks = -(-n_patients // chunk_size)
        bound = rows_per_patient(scenario)
        regions, offset = {}, 0
        for table, columns in TABLES.items():
            slot_rows = bound[table] * chunk_size
            for column, spec in columns.items():
                dtype = _numpy_dtype(spec.dtype)
                capacity = slot_rows * chunks
                regions[(table, column)] = Region(offset, dtype, slot_rows, capacity)
                offset += _page_up(capacity * dtype.itemsize)
        return Layout(path, chunk_size, regions, offset)


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
    """Write one chunk's columns into their slots; return the rows of each table.

    ``tables`` is what :func:`~boneflare.simulator.tables.cohort_columns` returns.

    Raises
    ------
    ValueError
        If a table has more rows than its slot (the bound of :func:`rows_per_patient`
        would be wrong: nothing is written past a slot).
    """
    slot = lo // layout.chunk_size
    fd = os.open(layout.path, os.O_RDWR)
    try:
        rows = {}
        for table, columns in tables.items():
            rows[table] = n = len(next(iter(columns.values()), ()))  # its first column's
            if not n:
                continue
            for column, values in columns.items():
                region = layout.regions[(table, column)]
                if n > region.slot_rows:
                    raise ValueError(f"{table}: {n} rows in a chunk, room for {region.slot_rows}")
                array = _column_values(values, region.dtype, column)
                at = region.offset + slot * region.slot_rows * region.dtype.itemsize
                _write_all(fd, memoryview(array).cast("B"), at)
        return rows
    finally:
        os.close(fd)


class Arena:
    """The shared file of one in-memory run, created by the parent before the chunks.

    Use it as a context manager: leaving closes the parent's descriptor, and after a
    failure its mapping too (the file is freed once the tables built from it are gone).
    Each chunk is packed as soon as its row counts arrive (:meth:`add`, in patient
    order), while the workers go on with later chunks, which write only above it.
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
        self.filled = dict.fromkeys(self.columns, 0)
        self.chunks = 0

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
        """Pack the next chunk: slide its rows down behind the previous chunk's."""
        for key, column in self.columns.items():
            count, filled = rows[key[0]], self.filled[key]
            start = self.chunks * self.layout.regions[key].slot_rows
            if start != filled and count:
                column[filled : filled + count] = column[start : start + count]
            self.filled[key] = filled + count
        self.chunks += 1

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
        filled = self.filled.get(key, 0)
        if not filled:
            return None
        region = self.layout.regions[key]
        itemsize = region.dtype.itemsize
        tail = _page_up(region.offset + filled * itemsize)
        end = region.offset + _page_up(region.capacity * itemsize)
        if end > tail:
            self.memory.madvise(mmap.MADV_REMOVE, tail, end - tail)
        return self.columns[key][:filled]

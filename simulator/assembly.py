"""Assembling a cohort in memory as its chunks arrive: preallocated columns, no final concatenation.

Each column of each table is one array, allocated once with room for the whole cohort
and filled chunk by chunk; a chunk's tables are freed as soon as they are copied. The
room is estimated from the first chunk's rows per patient with a wide margin: memory
the operating system has reserved but never touched costs nothing, so the margin is
free, and the finished tables are views of the filled part. A chunk that does not fit
(a cohort much denser than its first chunk) grows the columns once, by copying.

The peak is then the cohort's tables plus the chunks in flight, instead of the tables
twice over (chunks kept, then concatenated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np

from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.tables import CohortTables

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

MARGIN: Final[float] = 2.0
"""Room reserved per table: this many times the first chunk's rows per patient."""


class _Column:
    """One column being filled: a numpy array (categoricals: their codes)."""

    def __init__(self, first: pd.Series, capacity: int) -> None:
        self.dtype = first.dtype
        self.categorical = isinstance(first.dtype, pd.CategoricalDtype)
        sample = first.cat.codes.to_numpy() if self.categorical else first.to_numpy()
        self.plain = self.categorical or sample.dtype.kind in "biuf"
        self.values: Any = np.empty(capacity, dtype=sample.dtype) if self.plain else []

    def put(self, piece: pd.Series, at: int) -> None:
        """Copy ``piece`` to rows ``at ..``."""
        if not self.plain:
            self.values.append(piece)
            return
        data = piece.cat.codes.to_numpy() if self.categorical else piece.to_numpy()
        self.values[at : at + data.size] = data

    def grow(self, capacity: int, filled: int) -> None:
        """Make room for ``capacity`` rows, keeping the first ``filled``."""
        if self.plain:
            bigger = np.empty(capacity, dtype=self.values.dtype)
            bigger[:filled] = self.values[:filled]
            self.values = bigger

    def result(self, rows: int) -> Any:
        """The finished column of ``rows`` rows."""
        if not self.plain:
            return pd.concat(self.values, ignore_index=True) if self.values else []
        filled = self.values[:rows]
        if self.categorical:
            return pd.Categorical.from_codes(filled, dtype=self.dtype)
        return filled


class _Table:
    """One table being filled."""

    def __init__(self, first: pd.DataFrame, capacity: int) -> None:
        self.capacity = capacity
        self.rows = 0
        self.columns = {c: _Column(first[c], capacity) for c in first.columns}
        self.empty = first.iloc[:0]

    def put(self, frame: pd.DataFrame) -> None:
        n = len(frame)
        if self.rows + n > self.capacity:
            self.capacity = max(2 * self.capacity, self.rows + n)
            for column in self.columns.values():
                column.grow(self.capacity, self.rows)
        for name, column in self.columns.items():
            column.put(frame[name], self.rows)
        self.rows += n

    def result(self) -> pd.DataFrame:
        if self.rows == 0:
            return self.empty
        columns = {name: c.result(self.rows) for name, c in self.columns.items()}
        return pd.DataFrame(columns, copy=False)  # one block per column, as chunk tables


class Assembly:
    """The tables of a cohort of ``n_patients``, filled chunk by chunk in patient order.

    Parameters
    ----------
    n_patients : int
        Patients of the whole cohort (sizes the columns).

    Examples
    --------
    >>> from boneflare.simulator.run import RunSpec, iter_chunks, as_scenario
    >>> spec = RunSpec(as_scenario("paper"), seed=7)
    >>> assembly = Assembly(300)
    >>> for chunk in iter_chunks(spec, 300, chunk_size=100):
    ...     assembly.add(chunk)
    >>> len(assembly.result().patients)
    300

    """

    def __init__(self, n_patients: int) -> None:
        self.n_patients = int(n_patients)
        self.patients_seen = 0
        self.tables: dict[str, _Table] = {}
        self.parts: list[CohortTables] = []

    def add(self, chunk: CohortTables) -> None:
        """Copy one chunk's tables in (the chunk can be freed afterwards)."""
        seen = len(chunk.patients)
        if not self.tables:
            if seen >= self.n_patients:  # the whole cohort in one chunk: keep it as it is
                self.parts.append(chunk)
                self.patients_seen += seen
                return
            for name, frame in chunk.items():
                per_patient = len(frame) / max(seen, 1)
                capacity = int(np.ceil(MARGIN * per_patient * self.n_patients)) + len(frame)
                self.tables[name] = _Table(frame, capacity)
        for name, frame in chunk.items():
            self.tables[name].put(frame)
        self.patients_seen += seen

    def result(self) -> CohortTables:
        """The cohort's tables (views of the filled columns)."""
        if self.parts:
            return self.parts[0]
        if not self.tables:
            raise ValueError("no chunk was added")
        return CohortTables(**{name: t.result() for name, t in self.tables.items()})

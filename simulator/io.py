"""Writing and reading cohort tables: Parquet (default) or CSV, plus a provenance sidecar.

Tables are written chunk by chunk, so a cohort larger than memory streams to disk.
A Parquet table is one dataset: a folder ``<table>.parquet/`` of part files
``part-000000.parquet``, ``part-000001.parquet``, ... (one per chunk of patients, in
patient order), which a worker process can write by itself; pandas, pyarrow, Polars,
DuckDB and Spark read the folder as one table. Categorical columns are
dictionary-encoded, and statistics (min/max) are kept only for the identifier columns,
on which a reader's filter can skip whole parts. A CSV table is one file. Folders
written before parts (one ``<table>.parquet`` file) read back the same.
A folder is never overwritten silently: an existing one is refused unless ``force``,
and then only the files this module writes are replaced; a benchmark run folder is
always refused.
"""

from __future__ import annotations

import contextlib
import functools
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from boneflare.simulator import arrow_arrays
from boneflare.simulator.choices import FORMATS
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.table_schema import TABLES, conform
from boneflare.simulator.tables import Coded, CohortTables, Columns

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

__all__ = [
    "FORMATS",
    "PROVENANCE",
    "TableWriter",
    "prepare_folder",
    "read_cohort",
    "write_cohort",
    "write_part",
    "write_provenance",
]

PROVENANCE = "provenance.json"
COHORT_KIND = "boneflare-cohort"
"""``kind`` in the provenance of a folder of cohort tables."""
BENCHMARK_KIND = "boneflare-benchmark"
"""``kind`` in the provenance of a benchmark run folder."""
PART = "part-{:06d}.parquet"
"""Name of the ``k``-th part file (chunk ``k`` of the cohort) of a Parquet table."""
STATISTICS = ("patient_id", "episode_id")
"""Columns whose Parquet statistics are written: a part holds a range of patients, so a
reader filtering on these skips the parts outside its range. Every part spans all
follow-up days, so ``day`` statistics could skip none; they took 15% of writing ``labs``."""


def folder_kind(folder: str | Path) -> str | None:
    """What boneflare wrote in ``folder``: ``"cohort"``, ``"benchmark"`` or ``None``.

    Read from the ``kind`` of its ``provenance.json`` (a cohort written before kinds
    were recorded is known by its ``tables`` entry).
    """
    try:
        info = json.loads((Path(folder) / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    if info.get("kind") == BENCHMARK_KIND:
        return "benchmark"
    if info.get("kind") == COHORT_KIND or "tables" in info:
        return "cohort"
    return None


def _files(out: Path, fmt: str) -> list[Path]:
    return [out / f"{name}.{fmt}" for name in CohortTables.names()] + [out / PROVENANCE]


def _remove_table(path: Path) -> None:
    """Delete a table this module wrote: a file, or a folder of part files (only those)."""
    if path.is_dir():
        for part in path.glob("part-*.parquet"):
            part.unlink()
        with contextlib.suppress(OSError):  # something else in it: leave the folder
            path.rmdir()
    else:
        path.unlink(missing_ok=True)


def prepare_folder(out: str | Path, fmt: str = "parquet", force: bool = False) -> Path:
    """Create the output folder, refusing an existing one unless ``force``.

    Raises
    ------
    BoneflareError
        If the format is unknown, the folder exists (without ``force``), a path component
        is a file, or the folder cannot be written.

    """
    if fmt not in FORMATS:
        raise BoneflareError(f"unknown format {fmt!r}: known are {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise BoneflareError(f"output {out} exists and is not a folder")
        if folder_kind(out) == "benchmark":
            raise BoneflareError(
                f"{out} holds a benchmark run (boneflare benchmark); choose another --out"
            )
        if not force and any(out.iterdir()):
            raise BoneflareError(f"output folder {out} already exists; use --force to replace it")
        for path in _files(out, "parquet") + _files(out, "csv"):
            _remove_table(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BoneflareError(f"cannot write to output folder {out}: {exc.strerror}") from None
    return out


ARROW_TYPES: dict[str, pa.DataType] = {
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.large_string(),
}
"""The Arrow type of each dtype a column can have (``Column.dtype``), as pandas maps it."""
CATEGORICAL = pa.dictionary(pa.int8(), pa.large_string())
"""The Arrow type of a categorical column: int8 codes into its category names."""


@functools.cache
def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema every part of table ``name`` is written in (from its dtypes).

    A column that cannot be missing (:attr:`~boneflare.simulator.table_schema.Column.missing`)
    is not nullable, so Parquet stores it as required. The schema carries no pandas
    metadata: readers restore the dtypes from the Arrow types (and
    :func:`read_cohort` from :data:`~boneflare.simulator.table_schema.TABLES`).
    """
    fields = [
        pa.field(
            column,
            CATEGORICAL if isinstance(spec.dtype, tuple) else ARROW_TYPES[spec.dtype],
            nullable=spec.missing,
        )
        for column, spec in TABLES[name].items()
    ]
    return pa.schema(fields)


def write_part(
    tables: CohortTables | dict[str, pd.DataFrame | Columns], out: Path, index: int
) -> dict[str, int]:
    """Write one chunk's tables as part ``index`` of each Parquet table; return row counts.

    A table may be a DataFrame or its arrays by column
    (:func:`boneflare.simulator.tables.cohort_columns`), which are written without
    building a DataFrame first; the files are the same. Safe to call from several
    processes at once for different ``index`` values (each writes its own files; the
    table folders are created as needed).
    """
    rows = {}
    for name, data in tables.items():
        folder = Path(out) / f"{name}.parquet"
        folder.mkdir(exist_ok=True)
        schema = arrow_schema(name)
        table = _arrow_table(data, schema)
        _check_required(name, table)
        categorical = [f.name for f in schema if pa.types.is_dictionary(f.type)]
        pq.write_table(
            table,
            folder / PART.format(index),
            use_dictionary=categorical,
            write_statistics=[c for c in STATISTICS if c in schema.names],
        )
        rows[name] = table.num_rows
    return rows


def _check_required(name: str, table: pa.Table) -> None:
    """Raise if a column declared never missing holds a missing value."""
    for field, column in zip(table.schema, table.columns, strict=True):
        if not field.nullable and column.null_count:
            raise BoneflareError(
                f"table {name}: column {field.name} holds {column.null_count} missing "
                "value(s) but is declared never missing"
            )


def _arrow_table(data: pd.DataFrame | Columns, schema: pa.Schema) -> pa.Table:
    """One table in ``schema``: from a DataFrame, or straight from its column arrays.

    Column arrays become Arrow arrays without pandas (:mod:`~boneflare.simulator.arrow_arrays`),
    so a streamed run never imports it.
    """
    if not isinstance(data, dict):
        # One thread: each worker writes its own part, and the cores are already busy.
        return pa.Table.from_pandas(data, preserve_index=False, nthreads=1).cast(schema)
    arrays = []
    for field in schema:
        values = data[field.name]
        if isinstance(values, Coded):
            arrays.append(arrow_arrays.dictionary(values.codes, values.names, field.type))
        elif pa.types.is_large_string(field.type):
            arrays.append(arrow_arrays.strings(list(values), field.type))
        else:
            arrays.append(arrow_arrays.numbers(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class TableWriter:
    """Append chunks of cohort tables: Parquet part files, or one CSV file per table.

    Use as a context manager; :meth:`write` takes a :class:`CohortTables` per chunk, in
    patient order.
    """

    def __init__(self, out: Path, fmt: str = "parquet") -> None:
        self.out = Path(out)
        self.fmt = fmt
        self.parts = 0
        self.rows: dict[str, int] = dict.fromkeys(CohortTables.names(), 0)

    def write(self, tables: CohortTables) -> None:
        """Append one chunk's tables."""
        if self.fmt == "parquet":
            self.add(write_part(tables, self.out, self.parts))
            return
        for name, frame in tables.items():
            path = self.out / f"{name}.{self.fmt}"
            frame.to_csv(path, mode="a", header=self.parts == 0, index=False)
            self.rows[name] += len(frame)
        self.parts += 1

    def add(self, rows: dict[str, int]) -> None:
        """Count a part written elsewhere (e.g. by a worker with :func:`write_part`)."""
        for name, n in rows.items():
            self.rows[name] += n
        self.parts += 1

    def close(self) -> None:
        """Finish writing (every file is complete once written)."""

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_cohort(
    chunks: Iterable[CohortTables],
    out: str | Path,
    provenance: dict[str, Any],
    fmt: str = "parquet",
    force: bool = False,
) -> dict[str, int]:
    """Stream chunks of tables to ``out`` and write the provenance sidecar; return row counts."""
    folder = prepare_folder(out, fmt, force)
    with TableWriter(folder, fmt) as writer:
        for tables in chunks:
            writer.write(tables)
    write_provenance(folder, provenance, fmt, writer.rows)
    return writer.rows


def write_provenance(
    folder: Path, provenance: dict[str, Any], fmt: str, rows: dict[str, int]
) -> None:
    """Write the ``provenance.json`` of a cohort folder whose tables hold ``rows`` rows."""
    sidecar = {"kind": COHORT_KIND, **provenance}
    sidecar["tables"] = {name: {"file": f"{name}.{fmt}", "rows": n} for name, n in rows.items()}
    sidecar["python"] = platform.python_version()
    (Path(folder) / PROVENANCE).write_text(json.dumps(sidecar, indent=2, default=str) + "\n")


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table: one file, or a folder of part files read in their order."""
    if not path.is_dir():
        return pd.read_parquet(path)
    parts = sorted(path.glob("part-*.parquet"))
    if not parts:
        raise BoneflareError(f"table folder {path} holds no part files")
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pandas()


def read_cohort(folder: str | Path) -> CohortTables:
    """Read tables written by :func:`write_cohort` (Parquet or CSV) back into memory."""
    folder = Path(folder)
    sidecar = folder / PROVENANCE
    if not sidecar.is_file():
        raise BoneflareError(f"{folder} holds no simulated cohort ({PROVENANCE} is missing)")
    info = json.loads(sidecar.read_text())
    frames = {}
    for name, entry in info["tables"].items():
        path = folder / entry["file"]
        if not path.exists():
            raise BoneflareError(f"table file {path} is missing")
        frame = _read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        frames[name] = conform(name, frame)
    return CohortTables(**frames)

"""Writing and reading cohort tables: Parquet (default) or CSV, plus a provenance sidecar.

Tables are written chunk by chunk, so a cohort larger than memory streams to disk.
A folder is never overwritten silently: an existing one is refused unless ``force``,
and then only the files this module writes are replaced.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from boneflare.simulator.choices import FORMATS
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.table_schema import conform
from boneflare.simulator.tables import CohortTables

__all__ = ["FORMATS", "PROVENANCE", "TableWriter", "prepare_folder", "read_cohort", "write_cohort"]

PROVENANCE = "provenance.json"


def _files(out: Path, fmt: str) -> list[Path]:
    return [out / f"{name}.{fmt}" for name in CohortTables.names()] + [out / PROVENANCE]


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
        if not force and any(out.iterdir()):
            raise BoneflareError(f"output folder {out} already exists; use --force to replace it")
        for path in _files(out, "parquet") + _files(out, "csv"):
            path.unlink(missing_ok=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BoneflareError(f"cannot write to output folder {out}: {exc.strerror}") from None
    return out


class TableWriter:
    """Append chunks of cohort tables to one file per table.

    Use as a context manager; :meth:`write` takes a :class:`CohortTables` per chunk, in
    patient order.
    """

    def __init__(self, out: Path, fmt: str = "parquet") -> None:
        self.out = Path(out)
        self.fmt = fmt
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self.rows: dict[str, int] = dict.fromkeys(CohortTables.names(), 0)

    def write(self, tables: CohortTables) -> None:
        """Append one chunk's tables."""
        for name, frame in tables.items():
            path = self.out / f"{name}.{self.fmt}"
            if self.fmt == "csv":
                frame.to_csv(path, mode="a", header=self.rows[name] == 0, index=False)
            else:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if name not in self._parquet:
                    self._schemas[name] = table.schema
                    self._parquet[name] = pq.ParquetWriter(path, table.schema)
                self._parquet[name].write_table(table.cast(self._schemas[name]))
            self.rows[name] += len(frame)

    def close(self) -> None:
        """Finish every file."""
        for writer in self._parquet.values():
            writer.close()
        self._parquet.clear()

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
    sidecar = dict(provenance)
    sidecar["tables"] = {
        name: {"file": f"{name}.{fmt}", "rows": n} for name, n in writer.rows.items()
    }
    sidecar["python"] = platform.python_version()
    (folder / PROVENANCE).write_text(json.dumps(sidecar, indent=2, default=str) + "\n")
    return writer.rows


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
        if not path.is_file():
            raise BoneflareError(f"table file {path} is missing")
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        frames[name] = conform(name, frame)
    return CohortTables(**frames)

"""The results store of a benchmark run: a folder that is never overwritten.

Layout of ``RUN_DIR``::

    provenance.json        what was run (version, scenarios and hashes, seeds,
                           classifier parameters), status and timings
    results.parquet        long: scenario, classifier, replicate, metric, value
    predictions.parquet    scenario, classifier, replicate, episode_id, patient_id,
                           day, y, p_flare, action
    failures.parquet       scenario, classifier, replicate, unit, stage, message
    units/<unit>/          the three tables of one finished unit (the resume journal)
    models/<model>.pkl     a fitted learned classifier (or <model>.failed.json)

Every unit and model is written to a temporary name and renamed into place, so a
crash (Ctrl-C, SIGKILL, power cut) leaves either a finished entry or nothing; a
resumed run skips what is there. The three top-level tables are rebuilt from
``units/`` at the end of every run.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from boneflare.benchmarks.harness.tables import SCHEMAS, TABLES
from boneflare.benchmarks.harness.unit import FitOutput, UnitOutput
from boneflare.simulator import __version__
from boneflare.simulator.errors import BoneflareError

PROVENANCE = "provenance.json"
RESULTS = "results.parquet"
PREDICTIONS = "predictions.parquet"
FAILURES = "failures.parquet"
KIND = "boneflare-benchmark"


def utc_now() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {
        "boneflare": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
    }


def _first_difference(old: Any, new: Any, path: str = "") -> str | None:
    """Dotted path of the first place two JSON values differ (None if equal)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(old.get(key), new.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if old == new else (path or "(top)")


class RunStore:
    """Read and write one run folder.

    Parameters
    ----------
    path : str or Path
        The run folder.

    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.units_dir = self.path / "units"
        self.models_dir = self.path / "models"

    # ----------------------------------------------------------------- opening
    def create(self, experiment: dict[str, Any], seeds: dict[str, Any], force: bool) -> None:
        """Start a new run here; refuse an existing folder unless ``force``.

        Raises
        ------
        BoneflareError
            If the folder exists and is not empty (without ``force``), or ``force`` is
            given for a non-empty folder that is not a benchmark run, or it cannot be
            written.

        """
        if self.path.exists():
            if not self.path.is_dir():
                raise BoneflareError(f"run folder {self.path} exists and is not a folder")
            if any(self.path.iterdir()):
                if not force:
                    raise BoneflareError(
                        f"run folder {self.path} already exists; use --resume to continue it "
                        "or --force to replace it"
                    )
                if not (self.path / PROVENANCE).is_file():
                    raise BoneflareError(
                        f"{self.path} is not a benchmark run folder; refusing to replace it"
                    )
                shutil.rmtree(self.path)
        try:
            self.units_dir.mkdir(parents=True, exist_ok=True)
            self.models_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise BoneflareError(f"cannot write run folder {self.path}: {exc.strerror}") from None
        self.write_provenance(
            {
                "kind": KIND,
                "created": utc_now(),
                "versions": _versions(),
                "status": "running",
                "experiment": experiment,
                "seeds": seeds,
                "sessions": [],
            }
        )

    def open_resume(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """Reopen an interrupted (or finished) run; its definition must match.

        Raises
        ------
        BoneflareError
            If the folder holds no run or a run of a different definition.

        """
        info = self.read_provenance()
        difference = _first_difference(info.get("experiment"), experiment)
        if difference is not None:
            raise BoneflareError(
                f"run folder {self.path} holds a different benchmark (differs at {difference}); "
                "resume with the same options or choose another --out"
            )
        for stale in [*self.units_dir.glob(".tmp-*"), *self.models_dir.glob(".tmp-*")]:
            if stale.is_dir():  # a unit being written when the run died
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        return info

    def read_provenance(self) -> dict[str, Any]:
        """Return the provenance of the run here.

        Raises
        ------
        BoneflareError
            If the folder holds no benchmark run.

        """
        path = self.path / PROVENANCE
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BoneflareError(f"{self.path} holds no benchmark run ({PROVENANCE})") from None
        if info.get("kind") != KIND:
            raise BoneflareError(f"{self.path} holds no benchmark run ({PROVENANCE})")
        return info

    def write_provenance(self, info: dict[str, Any]) -> None:
        """Replace the provenance file atomically."""
        self._atomic_bytes(self.path / PROVENANCE, (json.dumps(info, indent=2) + "\n").encode())

    # ----------------------------------------------------------------- units
    def done_units(self) -> set[str]:
        """Names of the units already stored."""
        if not self.units_dir.is_dir():
            return set()
        return {p.name for p in self.units_dir.iterdir() if not p.name.startswith(".")}

    def write_unit(self, output: UnitOutput) -> None:
        """Store a finished unit atomically (a temporary folder renamed into place)."""
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.units_dir))
        for name in TABLES:
            pq.write_table(getattr(output, name), tmp / f"{name}.parquet")
        (tmp / "timings.json").write_text(json.dumps(output.timings))
        try:
            tmp.rename(self.units_dir / output.name)
        except OSError:  # already there (a concurrent writer): keep the first
            shutil.rmtree(tmp, ignore_errors=True)

    def read_tables(
        self, order: Sequence[str], fresh: Mapping[str, UnitOutput] | None = None
    ) -> dict[str, pa.Table]:
        """The tables of the units named in ``order``, concatenated in that order.

        Parameters
        ----------
        order : sequence of str
            Unit names, in the plan's order (scenario point, then replicate).
        fresh : mapping, optional
            Outputs of units still in memory (this session's); others are read from disk.

        Returns
        -------
        dict of str to pyarrow.Table
            ``results``, ``predictions`` and ``failures`` (training failures first), in
            the schemas of :mod:`boneflare.benchmarks.harness.tables`.

        Raises
        ------
        BoneflareError
            If a unit in ``order`` is not stored.

        """
        fresh = fresh or {}
        stored = self.done_units()
        missing = [u for u in order if u not in stored and u not in fresh]
        if missing:
            raise BoneflareError(f"run {self.path} lacks unit {missing[0]}; resume it")
        out = {}
        for name in TABLES:
            parts = [
                getattr(fresh[u], name)
                if u in fresh
                else pq.read_table(self.units_dir / u / f"{name}.parquet").cast(SCHEMAS[name])
                for u in order
            ]
            if name == "failures":
                training = self.training_failures()
                parts.insert(
                    0, pa.Table.from_pandas(training, schema=SCHEMAS[name], preserve_index=False)
                )
            out[name] = pa.concat_tables(parts) if parts else SCHEMAS[name].empty_table()
        return out

    # ----------------------------------------------------------------- models
    def write_model(self, output: FitOutput) -> None:
        """Store a fitted model (pickle) or its failure (JSON), atomically."""
        if output.model is None:
            payload = {"model": output.key, "message": output.error, "timings": output.timings}
            target = self.models_dir / f"{output.key}.failed.json"
            self._atomic_bytes(target, json.dumps(payload).encode())
        else:
            blob = pickle.dumps((output.model, output.seconds, output.timings))
            self._atomic_bytes(self.models_dir / f"{output.key}.pkl", blob)

    def read_models(self) -> dict[str, FitOutput]:
        """Every stored model or model failure, by key."""
        out: dict[str, FitOutput] = {}
        if not self.models_dir.is_dir():
            return out
        for path in sorted(self.models_dir.glob("*.pkl")):
            model, seconds, timings = pickle.loads(path.read_bytes())
            key = path.name[: -len(".pkl")]
            out[key] = FitOutput(key, model, seconds, None, timings)
        for path in sorted(self.models_dir.glob("*.failed.json")):
            payload = json.loads(path.read_text())
            key = payload["model"]
            out[key] = FitOutput(key, None, 0.0, payload["message"], payload.get("timings", {}))
        return out

    def training_failures(self) -> pd.DataFrame:
        """Failures of the training stage, in the failures table's columns."""
        rows = []
        info = self.read_provenance()
        jobs = {j["model"]: j for j in info.get("seeds", {}).get("training", [])}
        for key, fit in sorted(self.read_models().items()):
            if fit.error is None:
                continue
            job = jobs.get(key, {})
            rows.append(
                {
                    "scenario": job.get("scenario", ""),
                    "classifier": job.get("classifier", key),
                    "replicate": -1,
                    "unit": f"train:{key}",
                    "stage": "fit",
                    "message": fit.error,
                }
            )
        return pd.DataFrame(rows, columns=list(SCHEMAS["failures"].names))

    # ----------------------------------------------------------------- final tables
    def consolidate(
        self, order: Sequence[str], fresh: Mapping[str, UnitOutput] | None = None
    ) -> dict[str, pd.DataFrame]:
        """Write the three long tables from the units named in ``order``; return them.

        Rows come in the plan's order (scenario point, replicate, task, classifier, then metric
        or episode), which does not depend on the executor or on the order in which
        units finished.
        """
        out = {}
        for name, table in self.read_tables(order, fresh).items():
            pq.write_table(table, self._tmp_path(f"{name}.parquet"))
            os.replace(self._tmp_path(f"{name}.parquet"), self.path / f"{name}.parquet")
            out[name] = table.to_pandas()
        return out

    def load(self) -> dict[str, pd.DataFrame]:
        """Read the consolidated tables of a finished run.

        Raises
        ------
        BoneflareError
            If the run has no consolidated results (never finished: resume it).

        """
        self.read_provenance()
        if not (self.path / RESULTS).is_file():
            raise BoneflareError(
                f"run {self.path} has no results yet; finish it with "
                f"boneflare benchmark --resume --out {self.path}"
            )
        return {name: pd.read_parquet(self.path / f"{name}.parquet") for name in TABLES}

    # ----------------------------------------------------------------- helpers
    def _tmp_path(self, name: str) -> Path:
        return self.path / f".tmp-{os.getpid()}-{name}"

    def _atomic_bytes(self, target: Path, data: bytes) -> None:
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        tmp.write_bytes(data)
        os.replace(tmp, target)

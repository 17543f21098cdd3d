"""The results store of a benchmark run: a folder that is never overwritten.

Layout of ``RUN_DIR``::

    provenance.json        what was run (version, scenarios and hashes, seeds,
                           classifier parameters), status and timings
    results.parquet        long: scenario, classifier, replicate, metric, value (NaN
                           for every metric of a classifier not scored in a unit)
    predictions.parquet    scenario, classifier, replicate, episode_id, patient_id,
                           day, y, p_flare, action
    failures.parquet       scenario, classifier, replicate, unit, stage, message
    units/<unit>/          the three tables of one finished unit (the resume journal)
    models/<model>.pkl     a fitted learned classifier (or <model>.failed.json)

    manifest.jsonl         every file above, with its SHA-256 (see
                           :mod:`boneflare.benchmarks.harness.manifest`)

Every file is written atomically (temporary name, fsync, rename) and its checksum
appended to the manifest, so a crash (Ctrl-C, SIGKILL, power cut) leaves either a
finished entry or nothing. A resumed run trusts only what matches the manifest: a
missing or damaged unit is recomputed and a damaged model refitted, each with a
one-line notice. ``--force`` deletes only the files the manifest lists. The three
top-level tables are rebuilt from ``units/`` at the end of every run.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from boneflare.benchmarks.harness.manifest import (
    Manifest,
    atomic_write,
    fsync_folder,
    write_synced,
)
from boneflare.benchmarks.harness.tables import SCHEMAS, TABLES, complete_results, parquet_bytes
from boneflare.benchmarks.harness.unit import FitOutput, UnitOutput
from boneflare.simulator import __version__
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.io import BENCHMARK_KIND, folder_kind

PROVENANCE = "provenance.json"
RESULTS = "results.parquet"
PREDICTIONS = "predictions.parquet"
FAILURES = "failures.parquet"
KIND = BENCHMARK_KIND
UNIT_FILES = (*(f"{name}.parquet" for name in TABLES), "timings.json")
"""The files of one stored unit."""


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
        self.manifest = Manifest(self.path)

    # ----------------------------------------------------------------- opening
    def create(self, experiment: dict[str, Any], seeds: dict[str, Any], force: bool) -> None:
        """Start a new run here; refuse an existing folder unless ``force``.

        Raises
        ------
        BoneflareError
            If the folder exists and is not empty (without ``force``), holds cohort
            tables written by ``boneflare simulate``, or ``force`` is given for a
            non-empty folder that is not a benchmark run, or it cannot be written.

        Notes
        -----
        With ``force``, only the files of the old run are deleted (those its manifest
        lists, and the files a run writes by name); anything else in the folder stays.

        """
        if self.path.exists():
            if not self.path.is_dir():
                raise BoneflareError(f"run folder {self.path} exists and is not a folder")
            kind = folder_kind(self.path)
            if kind == "cohort":
                raise BoneflareError(
                    f"{self.path} holds cohort tables (boneflare simulate); choose another --out"
                )
            if any(self.path.iterdir()):
                if not force:
                    raise BoneflareError(
                        f"run folder {self.path} already exists; use --resume to continue it "
                        "or --force to replace it"
                    )
                if kind != "benchmark":
                    raise BoneflareError(
                        f"{self.path} is not a benchmark run folder; refusing to replace it"
                    )
                self._remove_own()
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

    def _remove_own(self) -> None:
        """Delete the files of the run here (listed in its manifest or named as a run's)."""
        self.manifest.remove_listed()
        own = [self.path / f"{name}.parquet" for name in TABLES] + [self.path / PROVENANCE]
        for unit in (p for p in self.units_dir.glob("*") if p.is_dir()):
            own += [unit / name for name in UNIT_FILES]
        own += [*self.models_dir.glob("*.pkl"), *self.models_dir.glob("*.failed.json")]
        self._remove_stale()
        for path in own:
            path.unlink(missing_ok=True)
        for folder in [*self.units_dir.glob("*"), self.units_dir, self.models_dir]:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def _remove_stale(self) -> None:
        """Delete temporary files and folders left by a run that died while writing."""
        for stale in [*self.units_dir.glob(".tmp-*"), *self.models_dir.glob(".tmp-*")]:
            if stale.is_dir():  # a unit being written when the run died
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)

    def open_resume(
        self, experiment: dict[str, Any], say: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        """Reopen an interrupted (or finished) run; its definition must match.

        Units and models that do not match the manifest are removed, each with a
        one-line notice through ``say``, so that the run recomputes them.

        Raises
        ------
        BoneflareError
            If the folder holds no run or a run of a different definition.

        """
        info = self.read_provenance()
        difference = _first_difference(
            _without_versions(info.get("experiment")), _without_versions(experiment)
        )
        if difference is not None:
            raise BoneflareError(
                f"run folder {self.path} holds a different benchmark (differs at {difference}); "
                "resume with the same options or choose another --out"
            )
        self._remove_stale()
        self._check_stored(say or (lambda message: None))
        return info

    def _check_stored(self, say: Callable[[str], None]) -> None:
        """Remove every unit or model file that is missing, unrecorded or damaged; say so."""
        entries = self.manifest.entries()
        recorded_units = {Path(rel).parts[1] for rel in entries if rel.startswith("units/")}
        present = {p.name for p in self.units_dir.glob("*") if not p.name.startswith(".")}
        for unit in sorted(recorded_units | present):
            problem = self._unit_problem(unit, entries)
            if problem:
                say(f"unit {unit}: {problem}; recomputing it")
                self._remove_unit(unit)
        for path in sorted(self.models_dir.glob("*")):
            if path.name.startswith("."):
                continue
            problem = self.manifest.problem(f"models/{path.name}", entries)
            if problem:
                say(f"model {path.name}: {problem}; fitting it again")
                path.unlink(missing_ok=True)

    def forget(self, units: bool, models: Sequence[str]) -> None:
        """Delete every stored unit (if ``units``) and the named models, to compute again."""
        if units and self.units_dir.is_dir():
            for unit in [p.name for p in self.units_dir.iterdir() if not p.name.startswith(".")]:
                self._remove_unit(unit)
        for key in models:
            (self.models_dir / f"{key}.pkl").unlink(missing_ok=True)
            (self.models_dir / f"{key}.failed.json").unlink(missing_ok=True)

    def _unit_problem(self, unit: str, entries: dict[str, dict[str, Any]]) -> str | None:
        for name in UNIT_FILES:
            problem = self.manifest.problem(f"units/{unit}/{name}", entries)
            if problem:
                return problem
        return None

    def _remove_unit(self, unit: str) -> None:
        folder = self.units_dir / unit
        for name in UNIT_FILES:
            (folder / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()

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
        self._write(PROVENANCE, (json.dumps(info, indent=2) + "\n").encode())

    # ----------------------------------------------------------------- units
    def done_units(self) -> set[str]:
        """Names of the units stored whole: every file present and matching the manifest."""
        if not self.units_dir.is_dir():
            return set()
        entries = self.manifest.entries()
        return {
            p.name
            for p in self.units_dir.iterdir()
            if not p.name.startswith(".") and self._unit_problem(p.name, entries) is None
        }

    def write_unit(self, output: UnitOutput) -> None:
        """Store a finished unit atomically (a temporary folder renamed into place)."""
        files = {f"{name}.parquet": output.files[name] for name in TABLES}
        files["timings.json"] = json.dumps(output.timings).encode()
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.units_dir))
        for name, data in files.items():
            write_synced(tmp / name, data)
        self._remove_unit(output.name)  # an unverified leftover of an earlier session
        try:
            tmp.rename(self.units_dir / output.name)
        except OSError:  # already there (a concurrent writer): keep the first
            shutil.rmtree(tmp, ignore_errors=True)
            return
        fsync_folder(self.units_dir)
        self.manifest.record({f"units/{output.name}/{n}": d for n, d in files.items()})

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
        stored = self.done_units() if any(u not in fresh for u in order) else set()
        missing = [u for u in order if u not in stored and u not in fresh]
        if missing:
            raise BoneflareError(f"run {self.path} lacks unit {missing[0]}; resume it")
        out = {}
        for name in TABLES:
            parts = [
                fresh[u].tables[name]
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
            self._write(f"models/{output.key}.failed.json", json.dumps(payload).encode())
        else:
            blob = pickle.dumps((output.model, output.seconds, output.timings))
            self._write(f"models/{output.key}.pkl", blob)

    def read_models(self) -> dict[str, FitOutput]:
        """Every stored model or model failure that matches the manifest, by key.

        A model file is unpickled only after its checksum matched (and it holds the
        fitted model as bytes, unpickled only by a guarded child).
        """
        out: dict[str, FitOutput] = {}
        if not self.models_dir.is_dir():
            return out
        entries = self.manifest.entries()
        trusted = [
            p
            for p in sorted(self.models_dir.glob("*"))
            if not self.manifest.problem(f"models/{p.name}", entries)
        ]
        for path in (p for p in trusted if p.name.endswith(".pkl")):
            model, seconds, timings = pickle.loads(path.read_bytes())
            key = path.name[: -len(".pkl")]
            out[key] = FitOutput(key, model, seconds, None, timings)
        for path in (p for p in trusted if p.name.endswith(".failed.json")):
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
        tables = self.read_tables(order, fresh)
        # The largest table is encoded on a thread (Arrow releases the GIL) while this
        # one completes, encodes and converts the others.
        with ThreadPoolExecutor(max_workers=1) as pool:
            encoding = pool.submit(parquet_bytes, tables["predictions"])
            tables["results"] = self._complete(tables["results"], order)
            out = {name: table.to_pandas() for name, table in tables.items()}
            data = {n: parquet_bytes(t) for n, t in tables.items() if n != "predictions"}
            data["predictions"] = encoding.result()
        for name in TABLES:
            self._write(f"{name}.parquet", data[name])
        return out

    def _complete(self, results: pa.Table, order: Sequence[str]) -> pa.Table:
        """``results`` with a NaN row for every metric of a classifier that was not scored."""
        info = self.read_provenance()
        where = {u["unit"]: (u["scenario"], u["replicate"]) for u in info["seeds"]["units"]}
        labels = [c["label"] for c in info["experiment"]["classifiers"]]
        frame = complete_results(results.to_pandas(), [where[u] for u in order], labels)
        return pa.Table.from_pandas(frame, schema=SCHEMAS["results"], preserve_index=False)

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
    def _write(self, rel: str, data: bytes) -> None:
        """Write a file of the run atomically and record its checksum in the manifest."""
        atomic_write(self.path / rel, data)
        self.manifest.record({rel: data})


def _without_versions(experiment: Any) -> Any:
    """The definition of a run without its classifiers' distribution versions.

    Versions are compared apart, when a run resumes (see
    :mod:`boneflare.benchmarks.harness.versions`): a changed version is refused with its
    own message, or its units recomputed with ``--rerun-changed``.
    """
    if not isinstance(experiment, dict) or "classifiers" not in experiment:
        return experiment
    classifiers = [
        {k: v for k, v in c.items() if k != "distribution"} if isinstance(c, dict) else c
        for c in experiment["classifiers"]
    ]
    return {**experiment, "classifiers": classifiers}

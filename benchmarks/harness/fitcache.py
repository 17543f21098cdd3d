"""A cache of fitted models shared by runs: the same training job is fitted once.

The Bayes oracle is fitted on 150,000 patients of the test scenario, more CPU time
than everything else of the default benchmark together; a run with the same seed,
scenario and classifier settings fits exactly the same model again. A fit is a pure
function of what its key holds, so a stored fit is reused instead:

* the training job (scenario hash, training seed, ``random_state``, cohort size,
  engine) and the classifier (class, parameters, its distribution and version);
* the source of boneflare and of the classifier's own package (a digest of their
  ``.py`` files: an edited simulator or classifier never reuses an old fit);
* the versions of Python, NumPy, pandas and scikit-learn (a pickled model is only
  read back by the versions that wrote it).

Only classifiers installed from a distribution are cached; one imported from a
working folder is always fitted. Failed fits are never cached. A cached model is
stored in the run folder as a fresh fit is, so results never depend on the cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from boneflare.benchmarks.harness.entries import ClassifierEntry
    from boneflare.benchmarks.harness.plan import TrainJob
    from boneflare.benchmarks.harness.unit import FitOutput

CACHE_ENV: Final[str] = "BONEFLARE_CACHE_DIR"
"""Environment variable naming the cache folder (default: the user's cache folder)."""

FORMAT: Final[int] = 1
"""Version of the cache's key and file layout."""


def default_cache_dir() -> Path:
    """``$BONEFLARE_CACHE_DIR``, else ``$XDG_CACHE_HOME/boneflare``, else ``~/.cache/boneflare``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "boneflare"


@functools.cache
def source_digest(package: str) -> str:
    """SHA-256 of every ``.py`` file of an imported top-level package (path and content)."""
    module = sys.modules.get(package) or __import__(package)
    roots = [Path(p) for p in getattr(module, "__path__", [])]
    if not roots and getattr(module, "__file__", None):
        roots = [Path(module.__file__)]
    digest = hashlib.sha256()
    for root in roots:
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _boneflare_digest() -> str:
    """Digest of boneflare's source: the three mapped rooms and the root namespace."""
    parts = [
        source_digest(name)
        for name in (
            "boneflare.simulator",
            "boneflare.classifiers",
            "boneflare.benchmarks",
        )
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "scikit-learn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - dependencies
            out[name] = "none"
    return out


def cache_key(job: TrainJob, entry: ClassifierEntry, engine: str) -> str | None:
    """The key of a training job's fit, or ``None`` when it must not be cached.

    ``None`` for a classifier that no installed distribution provides (code in a
    working folder can change without a new version).
    """
    described = entry.describe()
    if described.get("distribution") is None or entry.error is not None:
        return None
    package = type(entry.prototype).__module__.split(".")[0]
    own = _boneflare_digest()
    fields: dict[str, Any] = {
        "format": FORMAT,
        "classifier": described,
        "job": {
            "scenario_hash": job.scenario_hash,
            "seed": job.seed,
            "random_state": job.random_state,
            "patients": job.patients,
            "engine": engine,
        },
        "boneflare_source": own,
        "classifier_source": own if package == "boneflare" else source_digest(package),
        "versions": _versions(),
    }
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class FitCache:
    """Fitted models by :func:`cache_key`, one file each, in a folder.

    Parameters
    ----------
    folder : Path
        Where the models are kept (created when the first one is stored).

    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder) / "models"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pkl"

    def get(self, key: str | None, job_key: str) -> FitOutput | None:
        """The cached fit of ``key`` as the output of training job ``job_key`` (or None)."""
        from boneflare.benchmarks.harness.unit import FitOutput

        if key is None:
            return None
        try:
            model, seconds = pickle.loads(self._path(key).read_bytes())
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, TypeError):
            return None  # absent, or a partial or foreign file: fit afresh
        if not isinstance(model, bytes):
            return None
        return FitOutput(job_key, model, float(seconds), None, {})

    def put(self, key: str | None, output: FitOutput) -> None:
        """Store a successful fit (atomically; a cache that cannot be written is skipped)."""
        if key is None or output.model is None:
            return
        path = self._path(key)
        part = path.with_suffix(f".{os.getpid()}.part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            part.write_bytes(pickle.dumps((output.model, output.seconds), protocol=5))
            os.replace(part, path)
        except OSError:
            part.unlink(missing_ok=True)

"""boneflare: synthetic bone-flare cohorts, and a benchmark of flare-vs-progression methods.

This folder is installed as the top-level ``boneflare`` package (see pyproject.toml);
the three rooms are its subpackages :mod:`boneflare.simulator`,
:mod:`boneflare.classifiers` and :mod:`boneflare.benchmarks`. The names below are the
few a user needs; each is imported on first use, so ``import boneflare`` loads no
heavy library::

    import boneflare

    tables = boneflare.simulate("paper", 10_000, seed=7)
    scenario = boneflare.load_scenario("paper", ["labs.noise=2"])
    run = boneflare.run_benchmark(["all", "timing_window[window_days=60]"], quick=True)
    run.leaderboard()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boneflare.simulator import __version__
from boneflare.simulator.lazy import lazy_getattr

_LEARNING = "boneflare.benchmarks.learning"
_RUNS = "boneflare.benchmarks.runs"
_EXPORTS = {
    "BenchmarkConfig": "boneflare.benchmarks.harness",
    "BenchmarkRun": _RUNS,
    "BoneflareError": "boneflare.simulator.errors",
    "FlareClassifier": "boneflare.classifiers.base",
    "ObservedBatch": "boneflare.simulator.observed",
    "Scenario": "boneflare.simulator.scenarios",
    "SklearnAdapter": "boneflare.classifiers.adapter",
    "cross_validate": _LEARNING,
    "episode_features": _LEARNING,
    "episode_labels": _LEARNING,
    "load_run": _RUNS,
    "load_scenario": "boneflare.simulator.scenarios",
    "observed_batch": _LEARNING,
    "patient_folds": _LEARNING,
    "run_benchmark": _RUNS,
    "simulate": "boneflare.simulator.run",
    "simulate_patient": "boneflare.simulator.run",
}

__all__ = [
    "BenchmarkConfig",
    "BenchmarkRun",
    "BoneflareError",
    "FlareClassifier",
    "ObservedBatch",
    "Scenario",
    "SklearnAdapter",
    "__version__",
    "cross_validate",
    "episode_features",
    "episode_labels",
    "load_run",
    "load_scenario",
    "observed_batch",
    "patient_folds",
    "run_benchmark",
    "simulate",
    "simulate_patient",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs only
    from boneflare.benchmarks.harness import BenchmarkConfig
    from boneflare.benchmarks.learning import (
        cross_validate,
        episode_features,
        episode_labels,
        observed_batch,
        patient_folds,
    )
    from boneflare.benchmarks.runs import BenchmarkRun, load_run, run_benchmark
    from boneflare.classifiers.adapter import SklearnAdapter
    from boneflare.classifiers.base import FlareClassifier
    from boneflare.simulator.errors import BoneflareError
    from boneflare.simulator.observed import ObservedBatch
    from boneflare.simulator.run import simulate, simulate_patient
    from boneflare.simulator.scenarios import Scenario, load_scenario

"""boneflare: synthetic bone-flare cohorts, and a benchmark of flare-vs-progression methods.

This folder is installed as the top-level ``boneflare`` package (see pyproject.toml);
the three rooms are its subpackages :mod:`boneflare.simulator`,
:mod:`boneflare.classifiers` and :mod:`boneflare.benchmarks`. The names below are the
few a user needs; each is imported on first use, so ``import boneflare`` loads no
heavy library::

    import boneflare

    tables = boneflare.simulate("paper", 10_000, seed=7)
    scenario = boneflare.load_scenario("paper", ["labs.noise=2"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from boneflare.simulator import __version__

_EXPORTS = {
    "BenchmarkConfig": "boneflare.benchmarks.harness",
    "BoneflareError": "boneflare.simulator.errors",
    "FlareClassifier": "boneflare.classifiers.base",
    "Scenario": "boneflare.simulator.scenarios",
    "load_scenario": "boneflare.simulator.scenarios",
    "run_benchmark": "boneflare.benchmarks.harness",
    "simulate": "boneflare.simulator.run",
    "simulate_patient": "boneflare.simulator.run",
}

__all__ = [
    "BenchmarkConfig",
    "BoneflareError",
    "FlareClassifier",
    "Scenario",
    "__version__",
    "load_scenario",
    "run_benchmark",
    "simulate",
    "simulate_patient",
]


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'boneflare' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs only
    from boneflare.benchmarks.harness import BenchmarkConfig, run_benchmark
    from boneflare.classifiers.base import FlareClassifier
    from boneflare.simulator.errors import BoneflareError
    from boneflare.simulator.run import simulate, simulate_patient
    from boneflare.simulator.scenarios import Scenario, load_scenario

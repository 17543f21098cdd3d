"""boneflare's simulator: virtual patients with lung adenocarcinoma and bone metastases.

The main entry points are :func:`load_scenario` and :func:`simulate`; see
docs/quickstart.md. Names are imported lazily, so that importing a small module such
as :mod:`boneflare.simulator.observed` (all a classifier needs) does not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boneflare.simulator.lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "BoneflareError": "boneflare.simulator.errors",
    "ScenarioError": "boneflare.simulator.errors",
    "RunSpec": "boneflare.simulator.run",
    "iter_chunks": "boneflare.simulator.run",
    "simulate": "boneflare.simulator.run",
    "simulate_patient": "boneflare.simulator.run",
    "simulate_range": "boneflare.simulator.run",
    "Scenario": "boneflare.simulator.scenarios",
    "load_scenario": "boneflare.simulator.scenarios",
    "preset_names": "boneflare.simulator.scenarios",
    "CohortTables": "boneflare.simulator.tables",
}

__all__ = [
    "BoneflareError",
    "CohortTables",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "__version__",
    "iter_chunks",
    "load_scenario",
    "preset_names",
    "simulate",
    "simulate_patient",
    "simulate_range",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs only
    from boneflare.simulator.errors import BoneflareError, ScenarioError
    from boneflare.simulator.run import (
        RunSpec,
        iter_chunks,
        simulate,
        simulate_patient,
        simulate_range,
    )
    from boneflare.simulator.scenarios import Scenario, load_scenario, preset_names
    from boneflare.simulator.tables import CohortTables

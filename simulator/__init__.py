"""boneflare's simulator: virtual patients with lung adenocarcinoma and bone metastases.

The main entry points are :func:`load_scenario` and :func:`simulate`; see
docs/quickstart.md.
"""

from simulator.errors import BoneflareError, ScenarioError
from simulator.run import RunSpec, iter_chunks, simulate, simulate_patient, simulate_range
from simulator.scenarios import Scenario, load_scenario, preset_names
from simulator.tables import CohortTables

__version__ = "0.1.0"

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

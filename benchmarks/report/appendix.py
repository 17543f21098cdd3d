"""The report's appendix: the paper's calibration figures, redrawn for the run's scenario.

The benchmark's cohorts come from a model calibrated to Shi et al. (2021); the
appendix lets a reader check that the run's scenario still behaves like the paper's
patients. It simulates one fresh cohort of the run's first scenario (resolved
parameters from the provenance, the run's seed) and draws the paper's Figure 1 (ALP
and calcium, % of baseline by cycle and group) and Figure 7 (ALP paths of flare
patients), with the code of ``boneflare calibrate report``.
"""

from __future__ import annotations

from typing import Any, Final

from boneflare.benchmarks.report.style import Drawn
from boneflare.simulator import simulate
from boneflare.simulator.calibration.report import draw_figure1, draw_figure7
from boneflare.simulator.scenarios.loader import scenario_from_dict

PATIENTS: Final[int] = 5000
"""Patients simulated for the appendix (enough for stable medians by group)."""


def appendix_figures(info: dict[str, Any], patients: int = PATIENTS) -> list[Drawn]:
    """Figure 1 and Figure 7 of the paper, simulated under the run's first scenario.

    Parameters
    ----------
    info : dict
        The run's provenance (``experiment.scenarios[0].resolved`` and ``seed``).
    patients : int
        Size of the simulated cohort.

    Returns
    -------
    list of Drawn
        Stems ``appendix_figure1`` and ``appendix_figure7`` (empty if the provenance
        holds no resolved scenario).

    """
    experiment = info.get("experiment", {})
    scenarios = experiment.get("scenarios", [])
    if not scenarios or "resolved" not in scenarios[0]:
        return []
    point = scenarios[0]
    scenario = scenario_from_dict(point["resolved"])
    seed = int(experiment.get("seed", 0))
    tables = simulate(scenario, patients, seed=seed)
    label = point["label"]
    where = f"{patients:,} patients of scenario {label}, simulated with seed {seed}"
    return [
        Drawn(
            "appendix_figure1",
            draw_figure1(tables),
            f"The paper's Figure 1 redrawn from {where}: median ALP (left) and calcium "
            "(right) as % of baseline at each 21-day cycle, for bone-metastatic patients "
            "grouped as flare, benefit (CR, PR or SD without flare) and progression, with "
            "interquartile bands. In the paper at five months, ALP is lowest in the flare "
            "group, below baseline with benefit and above it with progression, while "
            "calcium stays near 100% in every group.",
            "Appendix: the paper's Figure 1",
        ),
        Drawn(
            "appendix_figure7",
            draw_figure7(tables),
            f"The paper's Figure 7 redrawn from {where}: serum ALP (U/L) against day for "
            "the first twelve flare patients; a triangle marks the draw nearest to the day "
            "the flare was first seen on CT. In the paper, 4 of the 7 flare patients had "
            "an ALP rise above baseline in the first nine weeks before it fell.",
            "Appendix: the paper's Figure 7",
        ),
    ]

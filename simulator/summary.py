"""A short summary of a simulated cohort, computed from its tables."""

from __future__ import annotations

import numpy as np

from boneflare.simulator.calibration.figures import flare_onsets
from boneflare.simulator.tables import CohortTables


def cohort_summary(tables: CohortTables) -> dict[str, float]:
    """Headline figures: cohort size, bone metastases, flare incidence and onset, responses."""
    patients = tables.patients
    n = len(patients)
    bone = patients.loc[patients["bone_mets"], "patient_id"]
    onsets = flare_onsets(tables)
    labelled = tables.episodes.merge(tables.episode_truth, on="episode_id")
    response = tables.truth["best_response"].value_counts(normalize=True)
    evaluable = tables.truth["best_response"] != "NE"
    rates = tables.truth.loc[evaluable, "best_response"].value_counts(normalize=True)
    return {
        "patients": float(n),
        "bone_metastatic_share": len(bone) / n if n else np.nan,
        "flare_share_of_bone_metastatic": (
            onsets.index.isin(bone).sum() / len(bone) if len(bone) else np.nan
        ),
        "median_observed_flare_onset_day": float(onsets.median()) if len(onsets) else np.nan,
        "episodes": float(len(tables.episodes)),
        "flare_episode_share": (
            float((labelled["label"] == "flare").mean()) if len(labelled) else np.nan
        ),
        "objective_response_rate": float(rates.get("CR", 0.0) + rates.get("PR", 0.0)),
        "stable_disease_rate": float(rates.get("SD", 0.0)),
        "progressive_disease_rate": float(rates.get("PD", 0.0)),
        "not_evaluable_share": float(response.get("NE", 0.0)),
    }


def format_summary(summary: dict[str, float]) -> str:
    """Render a summary as aligned ``name  value`` lines."""
    width = max(len(k) for k in summary)
    lines = []
    for key, value in summary.items():
        if key in ("patients", "episodes"):
            shown = f"{int(value):,}"
        elif key.endswith("_day"):
            shown = f"{value:.0f}"
        else:
            shown = f"{value:.3f}"
        lines.append(f"{key.ljust(width)}  {shown}")
    return "\n".join(lines)

"""Sample data of the conformance suite: two small simulated cohorts, built once."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from boneflare.simulator.observed import ObservedBatch

SAMPLE_PATIENTS = 600
"""Patients per sample cohort: enough for both labels and every kind of history
(early and late episodes, patients with and without bone metastases)."""
SAMPLE_SEEDS = (9_001, 9_002)
"""Seeds of the training and test sample cohorts."""
SAMPLE_SCENARIO = "paper"
"""Scenario of the sample cohorts (the calibrated default)."""


@dataclass(frozen=True)
class SampleData:
    """Observed histories and labels (1 flare, 0 progression) of a train and a test cohort."""

    train: ObservedBatch
    y_train: np.ndarray
    test: ObservedBatch
    y_test: np.ndarray


@functools.cache
def sample_data() -> SampleData:
    """Return the sample cohorts (simulated once per process, then cached).

    Treat the result as read-only: the checks hand deep copies to classifiers.
    """
    from boneflare.simulator import load_scenario, simulate
    from boneflare.simulator.observed import build_batch

    scenario = load_scenario(SAMPLE_SCENARIO)
    parts: list = []
    for seed in SAMPLE_SEEDS:
        t = simulate(scenario, SAMPLE_PATIENTS, seed=seed, progress=False)
        batch = build_batch(t.episodes, t.patients, t.labs, t.scans)
        truth = t.episode_truth.set_index("episode_id")["label"].astype(str)
        y = (truth.reindex(batch.episode_ids).to_numpy() == "flare").astype(np.int8)
        parts.extend([batch, y])
    return SampleData(*parts)

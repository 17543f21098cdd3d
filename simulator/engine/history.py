"""Observed histories of the patients at today's episodes, for a decision policy.

The engine builds small observed tables for just the patients concerned, with the
same functions that write the final tables, and cuts them with
:func:`boneflare.simulator.observed.build_batch`: a policy sees exactly what a classifier
would see from the finished tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from boneflare.simulator import tables
from boneflare.simulator.engine.followup import FollowUp
from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.observed import ObservedBatch, build_batch

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)


def observed_batch(fu: FollowUp, rows: np.ndarray, slots: np.ndarray, day: int) -> ObservedBatch:
    """Return the observed histories of the episodes opened today at (rows, slots)."""
    patients_rows = np.unique(rows)
    pid = fu.patients.baseline.patient_id[rows]

    episodes = pd.DataFrame(
        {
            "episode_id": tables.episode_key(pid, slots),
            "patient_id": pid,
            "day": np.full(rows.size, day, dtype=np.int16),
            "scan_index": slots.astype(np.int16),
        }
    )
    return build_batch(
        episodes,
        tables.patients_table(fu, patients_rows),
        tables.labs_table(fu, patients_rows),
        tables.scans_table(fu, patients_rows),
    )

"""Planned visits: a lab draw before each 21-day cycle, a CT every 42 days (docs/model.md).

Cycle delays accumulate (a late cycle pushes every later draw); CT scheduling jitter
does not (each CT is planned from day 0). Visits past the horizon are dropped by
marking their day ``NO_VISIT``. Whether a planned visit happens (drop-out, treatment
stopped) is decided by the engine as the simulation runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boneflare.simulator import draws as D
from boneflare.simulator.scenarios.schema import Scenario

NO_VISIT = np.iinfo(np.int32).max
"""Day of a planned slot that falls outside the horizon."""


@dataclass(frozen=True)
class Schedule:
    """Planned visit days per patient.

    Attributes
    ----------
    lab_day : ndarray of int32, shape (n, lab_slots)
        Day of each planned lab draw (``NO_VISIT`` past the horizon); slot 0 is day 0.
    lab_missed : ndarray of bool, shape (n, lab_slots)
        The draw is missed (the visit happens but no blood is taken).
    ct_day : ndarray of int32, shape (n, ct_slots)
        Day of each planned CT (``NO_VISIT`` past the horizon); slot 0 is the baseline.

    """

    lab_day: np.ndarray
    lab_missed: np.ndarray
    ct_day: np.ndarray


def make_schedule(scenario: Scenario, draws: D.Draws) -> Schedule:
    """Plan the visits of a set of patients from their draws."""
    labs, ct = scenario.labs, scenario.ct
    u_delay = draws.lab_u[:, :, D.LAB_U_DELAY]
    # A cycle is late when its uniform falls below the late share; where in that
    # interval it falls sets the delay (1..max days), so one uniform serves both.
    late = u_delay < labs.delay_fraction
    # Only late cycles keep their quotient (at most 1); the others may overflow or be
    # NaN where the late share is tiny or zero, and are discarded.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        within = np.where(late, u_delay / labs.delay_fraction, 0.0)
    delay = np.where(late, 1 + np.floor(within * labs.delay_max_days), 0).astype(np.int64)
    delay = np.minimum(delay, labs.delay_max_days)
    step = labs.interval_days + delay
    step[:, 0] = 0
    lab_day = np.cumsum(step, axis=1)
    missed = draws.lab_u[:, :, D.LAB_U_MISSED] < labs.missed_fraction
    missed[:, 0] = False  # the baseline draw is part of enrolment

    k_ct = draws.ct_z.shape[1]
    spread = ct.jitter_max_days - ct.jitter_min_days + 1
    jitter = ct.jitter_min_days + np.floor(draws.ct_u[:, :, D.CT_U_JITTER] * spread)
    ct_day = (np.arange(k_ct)[None, :] * ct.interval_days + jitter).astype(np.int64)
    ct_day[:, 0] = 0
    ct_day = np.maximum(ct_day, 1) * (np.arange(k_ct)[None, :] > 0)  # follow-up after day 0

    horizon = scenario.horizon_days
    return Schedule(
        lab_day=np.where(lab_day <= horizon, lab_day, NO_VISIT).astype(np.int32),
        lab_missed=missed,
        ct_day=np.where(ct_day <= horizon, ct_day, NO_VISIT).astype(np.int32),
    )

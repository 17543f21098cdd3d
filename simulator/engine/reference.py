"""The reference engine: one SimPy process per patient, one event per visit.

Small and obviously right: each patient walks through its own visits in day order
(labs before a same-day CT) and calls the same visit functions as the batched
engine, with a batch of one. It is the correctness and performance anchor.
"""

from __future__ import annotations

import numpy as np
import simpy

from boneflare.simulator.engine.followup import FollowUp
from boneflare.simulator.schedule import NO_VISIT

LAB, CT = 0, 1


def _visits(fu: FollowUp, row: int) -> list[tuple[int, int, int]]:
    """The planned visits of one patient as (day, kind, slot), labs first on a shared day."""
    visits = [(int(d), LAB, k) for k, d in enumerate(fu.schedule.lab_day[row]) if d != NO_VISIT]
    visits += [(int(d), CT, k) for k, d in enumerate(fu.schedule.ct_day[row]) if d != NO_VISIT]
    return sorted(visits)


def run_reference(fu: FollowUp) -> FollowUp:
    """Run the follow-up of every patient in ``fu``, one process each; return ``fu``."""
    env = simpy.Environment()

    def patient(env: simpy.Environment, row: int):
        rows = np.array([row])
        for day, kind, slot in _visits(fu, row):
            if day > env.now:
                yield env.timeout(day - env.now)
            slots = np.array([slot])
            if kind == LAB:
                fu.lab_visit(rows, slots, day)
            else:
                fu.ct_visit(rows, slots, day)

    for row in range(fu.patients.baseline.n):
        env.process(patient(env, row))
    env.run()
    return fu

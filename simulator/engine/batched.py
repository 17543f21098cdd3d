"""The batched engine: the open-loop pass without a policy, else one event per visit day.

Without a decision policy, :func:`run_batched` computes every visit at once
(:mod:`boneflare.simulator.engine.open_loop`). With a policy it runs
:func:`run_event_loop`: one SimPy process per cohort, one event per visit day. All
patients with a visit on a day are handled together as numpy arrays: first the lab
draws of the day, then the CTs (so a decision at a CT sees that day's labs). The order
of events within a patient is the same as in the reference engine, and the visit
functions are elementwise, so all engines write identical records.
"""

from __future__ import annotations

import numpy as np
import simpy

from boneflare.simulator.engine.followup import FollowUp
from boneflare.simulator.engine.open_loop import run_open_loop
from boneflare.simulator.schedule import NO_VISIT


def _timetable(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group the planned (row, slot) visits of a day matrix by day.

    Returns the distinct visit days, the start offset of each day's group, and the rows
    and slots of all visits ordered by day (rows ascending within a day).
    """
    # Days fit in int16 (horizon <= 3650), where numpy's stable sort is a radix sort.
    flat = np.where(days == NO_VISIT, np.iinfo(np.int16).max, days).astype(np.int16).ravel()
    order = np.argsort(flat, kind="stable")
    order = order[: np.searchsorted(flat[order], np.iinfo(np.int16).max)]
    sorted_days = flat[order].astype(np.int64)
    unique, starts = np.unique(sorted_days, return_index=True)
    rows, slots = np.divmod(order, days.shape[1])
    return unique, np.append(starts, order.size), rows, slots


def run_batched(fu: FollowUp) -> FollowUp:
    """Run the follow-up of every patient in ``fu`` to the horizon; return ``fu``.

    The open-loop pass when ``fu`` has no decision policy, the event loop otherwise;
    both give identical records.
    """
    if fu.policy is None:
        return run_open_loop(fu)
    return run_event_loop(fu)


def run_event_loop(fu: FollowUp) -> FollowUp:
    """Run the follow-up of ``fu`` as one SimPy event per visit day; return ``fu``."""
    lab_days, lab_bounds, lab_rows, lab_slots = _timetable(fu.schedule.lab_day)
    ct_days, ct_bounds, ct_rows, ct_slots = _timetable(fu.schedule.ct_day)
    all_days = np.union1d(lab_days, ct_days)
    lab_at = {int(d): i for i, d in enumerate(lab_days)}
    ct_at = {int(d): i for i, d in enumerate(ct_days)}
    env = simpy.Environment()

    def clinic(env: simpy.Environment):
        for day in all_days.tolist():
            if day > env.now:
                yield env.timeout(day - env.now)
            i = lab_at.get(day)
            if i is not None:
                lo, hi = lab_bounds[i], lab_bounds[i + 1]
                fu.lab_visit(lab_rows[lo:hi], lab_slots[lo:hi], day)
            i = ct_at.get(day)
            if i is not None:
                lo, hi = ct_bounds[i], ct_bounds[i + 1]
                fu.ct_visit(ct_rows[lo:hi], ct_slots[lo:hi], day)

    env.process(clinic(env))
    env.run()
    return fu

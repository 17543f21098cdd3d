"""The open-loop pass: every visit of a set of patients in one vectorised step.

Without a decision policy nothing that happens at a visit changes a later one, except
the RECIST nadir. So every planned visit that takes place (before drop-out; for labs,
not missed) is computed at once, in (patient row, slot) order, which is also day order
and table order, with the same visit functions as the event-loop engines. The nadir a
scan is judged against is the running minimum of the patient's earlier measured sums.
The records are identical to the event loops' (tests/test_engines.py proves it); the
visits are kept as flat arrays, so the tables are built from them without reading the
record back.
"""

from __future__ import annotations

import numpy as np

from boneflare.simulator import observation as O
from boneflare.simulator.engine.followup import FollowUp, scan_codes
from boneflare.simulator.engine.visits import LabVisits, ScanVisits
from boneflare.simulator.schedule import NO_VISIT


def _taking_place(days: np.ndarray, dropout_day: np.ndarray) -> np.ndarray:
    """Planned visits (``days``, one row per patient) that fall before drop-out."""
    return (days != NO_VISIT) & (days < dropout_day[:, None])


def _cells(done: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat index, row and slot of the True cells of ``done``, in (row, slot) order.

    What ``np.nonzero`` gives, plus the flat index, which selects from any array laid out
    like ``done`` with one contiguous take (numpy's fast path).
    """
    flat = np.flatnonzero(done)
    rows = flat // done.shape[1]
    return flat, rows, flat - rows * done.shape[1]


def _at(values: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The cells ``flat`` of an array whose first two axes are (patient row, slot)."""
    n, k = values.shape[:2]
    return np.take(values.reshape(n * k, *values.shape[2:]), flat, axis=0)


def _put(matrix: np.ndarray, flat: np.ndarray, values: np.ndarray) -> None:
    """Write ``values`` to the cells ``flat`` of a (patient row, slot) matrix, in place."""
    np.reshape(matrix, -1, copy=False)[flat] = values


def _labs(fu: FollowUp) -> LabVisits:
    schedule = fu.schedule
    done = _taking_place(schedule.lab_day, fu.patients.latent.dropout_day)
    done &= ~schedule.lab_missed
    flat, rows, slots = _cells(done)
    day = _at(schedule.lab_day, flat)
    z = _at(fu.patients.draws.lab_z, flat)
    alp, calcium = O.measure_labs(fu.patients, rows, slots, day, z)
    rec = fu.record
    rec.lab_done = done
    _put(rec.alp, flat, alp)
    _put(rec.calcium, flat, calcium)
    return LabVisits(rows, day, alp, calcium)


def _scans(fu: FollowUp) -> ScanVisits:
    schedule, rec, draws = fu.schedule, fu.record, fu.patients.draws
    done = _taking_place(schedule.ct_day, fu.patients.latent.dropout_day)
    flat, rows, slots = _cells(done)
    day = _at(schedule.ct_day, flat)
    reading = O.read_ct(fu.patients, rows, slots, day, _at(draws.ct_z, flat), _at(draws.ct_u, flat))
    _put(rec.sld, flat, reading.sld_mm)
    # Nadir before each scan: the running minimum of the sums before it (fmin skips
    # the NaN of visits that did not happen); at the baseline scan, its own sum.
    running = np.fmin.accumulate(rec.sld, axis=1)
    before = np.empty_like(running)
    before[:, 0] = rec.sld[:, 0]
    before[:, 1:] = running[:, :-1]
    fu.baseline_sum = rec.sld[:, 0].copy()
    fu.nadir = running[:, -1].copy()
    response, bone, label = scan_codes(
        fu.patients, rows, slots, reading, fu.baseline_sum[rows], _at(before, flat)
    )
    rec.scan_done = done
    _put(rec.recist, flat, response)
    _put(rec.bone, flat, bone)
    _put(rec.look, flat, reading.look)
    _put(rec.new_lesion, flat, reading.new_lesion)
    _put(rec.label, flat, label)
    return ScanVisits(
        rows=rows,
        slots=slots,
        day=day,
        sld=reading.sld_mm,
        recist=response,
        bone=bone,
        look=reading.look,
        new_lesion=reading.new_lesion,
        label=label,
    )


def run_open_loop(fu: FollowUp) -> FollowUp:
    """Run the follow-up of every patient in ``fu`` in one pass; return ``fu``.

    Fills ``fu.record`` as the event loops do and sets ``fu.visits``.

    Raises
    ------
    ValueError
        If ``fu`` has a decision policy: a policy's calls are made in day order by an
        event-loop engine.

    """
    if fu.policy is not None:
        raise ValueError("the open-loop pass runs only without a decision policy")
    fu.visits = (_labs(fu), _scans(fu))
    return fu

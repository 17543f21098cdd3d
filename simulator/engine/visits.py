"""The visits that took place, as flat arrays in table order (patient row, then slot).

The open-loop pass (:mod:`boneflare.simulator.engine.open_loop`) produces them directly;
for the event-loop engines they are read back from the record matrices. The table
builders (:mod:`boneflare.simulator.tables`) take them either way, so both give the same
tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from boneflare.simulator.engine.followup import FollowUp


@dataclass(frozen=True)
class LabVisits:
    """Lab draws that gave values, ordered by patient row then slot (hence by day).

    Attributes
    ----------
    rows : ndarray of int
        Patient row of each draw.
    day : ndarray of int
        Day of the draw.
    alp, calcium : ndarray of float
        Reported values (U/L, mmol/L).

    """

    rows: np.ndarray
    day: np.ndarray
    alp: np.ndarray
    calcium: np.ndarray


@dataclass(frozen=True)
class ScanVisits:
    """CT scans that took place, ordered by patient row then slot (hence by day).

    Attributes
    ----------
    rows, slots, day : ndarray of int
        Patient row, scan index and day of each scan.
    sld : ndarray of float
        Measured sum of target diameters (mm).
    recist, bone, look : ndarray of int8
        RECIST response, bone reading and lesion look codes (``observation``).
    new_lesion : ndarray of bool
        An unequivocal new soft-tissue lesion was seen.
    label : ndarray of int8
        Episode truth of a 'worse' bone reading, -1 where the scan opens no episode.

    """

    rows: np.ndarray
    slots: np.ndarray
    day: np.ndarray
    sld: np.ndarray
    recist: np.ndarray
    bone: np.ndarray
    look: np.ndarray
    new_lesion: np.ndarray
    label: np.ndarray


def lab_visits(fu: FollowUp, rows: np.ndarray) -> LabVisits:
    """Return the lab draws of the patients at ``rows``, read from the record."""
    rec = fu.record
    r, k = np.nonzero(rec.lab_done[rows])
    r = rows[r]
    return LabVisits(r, fu.schedule.lab_day[r, k], rec.alp[r, k], rec.calcium[r, k])


def scan_visits(fu: FollowUp, rows: np.ndarray) -> ScanVisits:
    """Return the scans of the patients at ``rows``, read from the record."""
    rec = fu.record
    r, k = np.nonzero(rec.scan_done[rows])
    r = rows[r]
    return ScanVisits(
        rows=r,
        slots=k,
        day=fu.schedule.ct_day[r, k],
        sld=rec.sld[r, k],
        recist=rec.recist[r, k],
        bone=rec.bone[r, k],
        look=rec.look[r, k],
        new_lesion=rec.new_lesion[r, k],
        label=rec.label[r, k],
    )

"""The state of follow-up for a set of patients, and the two kinds of visit.

:class:`FollowUp` holds what has been observed so far (the record) and the little
state the clinic keeps (RECIST baseline and nadir, whether treatment was stopped).
:meth:`FollowUp.lab_visit` and :meth:`FollowUp.ct_visit` are the only places where
time moves the model forward; both engines call them, for one patient or many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from boneflare.simulator import observation as O
from boneflare.simulator.engine.policy import ACTION_STOP, DecisionPolicy
from boneflare.simulator.engine.visits import LabVisits, ScanVisits
from boneflare.simulator.observation import NOT_STOPPED
from boneflare.simulator.schedule import Schedule

if TYPE_CHECKING:
    from boneflare.simulator.observed import ObservedBatch

#: Builds the observed histories of today's episodes at (rows, slots) for a policy.
Observer = Callable[["FollowUp", np.ndarray, np.ndarray, int], "ObservedBatch"]

__all__ = ["NOT_STOPPED", "DecisionLog", "FollowUp", "Observer", "Record", "scan_codes"]


def scan_codes(
    patients: O.Patients,
    rows: np.ndarray,
    slots: np.ndarray,
    reading: O.CtReading,
    baseline_sum: np.ndarray,
    nadir: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the recorded RECIST response, bone reading and episode label of scans.

    Parameters
    ----------
    patients : Patients
        The patients scanned.
    rows, slots : ndarray of int
        Patient row and scan index of each scan (slot 0: the baseline scan).
    reading : CtReading
        What each scan shows (:func:`~boneflare.simulator.observation.read_ct`).
    baseline_sum, nadir : ndarray of float
        Per scan, the patient's baseline sum and the nadir of the sums before this
        scan (at a baseline scan, its own sum).

    Returns
    -------
    response, bone, label : ndarray of int8
        The baseline scan is coded 'baseline' and opens no episode.

    """
    response = O.recist_response(reading.sld_mm, reading.new_lesion, baseline_sum, nadir)
    at_baseline = slots == 0
    response[at_baseline] = O.R_BASELINE
    bone = reading.bone.copy()
    bone[at_baseline] = np.where(
        patients.baseline.bone_mets[rows[at_baseline]], O.B_BASELINE, O.B_NONE
    )
    label = np.where(at_baseline, -1, reading.label).astype(np.int8)
    bone[at_baseline & (reading.bone == O.B_WORSE)] = O.B_BASELINE
    return response, bone, label


@dataclass
class Record:
    """Observed values so far, in (patient row, visit slot) matrices."""

    lab_done: np.ndarray  # bool (n, lab_slots): a value was measured
    alp: np.ndarray  # float (n, lab_slots)
    calcium: np.ndarray  # float (n, lab_slots)
    scan_done: np.ndarray  # bool (n, ct_slots)
    sld: np.ndarray  # float (n, ct_slots), mm
    recist: np.ndarray  # int8 (n, ct_slots)
    bone: np.ndarray  # int8 (n, ct_slots)
    look: np.ndarray  # int8 (n, ct_slots)
    new_lesion: np.ndarray  # bool (n, ct_slots)
    label: np.ndarray  # int8 (n, ct_slots): episode truth, -1 where no episode

    @staticmethod
    def empty(n: int, lab_slots: int, ct_slots: int) -> Record:
        """Return a record in which nothing has been observed yet."""
        return Record(
            lab_done=np.zeros((n, lab_slots), dtype=bool),
            alp=np.full((n, lab_slots), np.nan),
            calcium=np.full((n, lab_slots), np.nan),
            scan_done=np.zeros((n, ct_slots), dtype=bool),
            sld=np.full((n, ct_slots), np.nan),
            recist=np.zeros((n, ct_slots), dtype=np.int8),
            bone=np.zeros((n, ct_slots), dtype=np.int8),
            look=np.zeros((n, ct_slots), dtype=np.int8),
            new_lesion=np.zeros((n, ct_slots), dtype=bool),
            label=np.full((n, ct_slots), -1, dtype=np.int8),
        )


@dataclass
class DecisionLog:
    """Calls a decision policy made, one entry per episode (concatenated at the end)."""

    rows: list[np.ndarray] = field(default_factory=list)
    slots: list[np.ndarray] = field(default_factory=list)
    p_flare: list[np.ndarray] = field(default_factory=list)
    action: list[np.ndarray] = field(default_factory=list)


@dataclass
class FollowUp:
    """Follow-up of a set of patients under one scenario, with an optional policy.

    Parameters
    ----------
    patients : Patients
        Baseline, latent truth and draws.
    schedule : Schedule
        Planned visits.
    policy : DecisionPolicy or None
        Called at every episode with the observed histories of the patients concerned.
    closed_loop : bool
        Whether the policy's calls change what happens next (a stop ends first-line
        follow-up); in open loop they are only recorded.
    observer : Observer or None
        Builds what the policy is shown; required with a policy. The caller injects
        it (``simulator.run`` passes :func:`~boneflare.simulator.engine.history.observed_batch`),
        so the engine does not import the table builders that read its own state.

    Attributes
    ----------
    record : Record
        What has been observed so far, per (patient row, slot).
    visits : (LabVisits, ScanVisits) or None
        The same observations as flat arrays in table order, when the engine made them
        (the open-loop pass); ``None`` when they are to be read from ``record``.

    """

    patients: O.Patients
    schedule: Schedule
    policy: DecisionPolicy | None = None
    closed_loop: bool = False
    observer: Observer | None = None
    record: Record = field(init=False)
    baseline_sum: np.ndarray = field(init=False)
    nadir: np.ndarray = field(init=False)
    stop_day: np.ndarray = field(init=False)
    decisions: DecisionLog = field(init=False)
    visits: tuple[LabVisits, ScanVisits] | None = field(init=False)

    def __post_init__(self) -> None:
        n = self.patients.baseline.n
        self.record = Record.empty(n, self.schedule.lab_day.shape[1], self.schedule.ct_day.shape[1])
        self.baseline_sum = np.full(n, np.nan)
        self.nadir = np.full(n, np.nan)
        self.stop_day = np.full(n, NOT_STOPPED, dtype=np.int64)
        self.decisions = DecisionLog()
        self.visits = None

    def _present(self, rows: np.ndarray, day: int) -> np.ndarray:
        """Which of the rows still come to visits on this day."""
        return (day < self.patients.latent.dropout_day[rows]) & (self.stop_day[rows] == NOT_STOPPED)

    def lab_visit(self, rows: np.ndarray, slots: np.ndarray, day: int) -> None:
        """Draw blood from the patients due on this day (missed draws give no value)."""
        keep = self._present(rows, day) & ~self.schedule.lab_missed[rows, slots]
        rows, slots = rows[keep], slots[keep]
        if rows.size == 0:
            return
        alp, calcium = O.measure_labs(self.patients, rows, slots, day)
        rec = self.record
        rec.lab_done[rows, slots] = True
        rec.alp[rows, slots] = alp
        rec.calcium[rows, slots] = calcium

    def ct_visit(self, rows: np.ndarray, slots: np.ndarray, day: int) -> None:
        """Scan the patients due on this day; 'worse' bone readings open episodes."""
        keep = self._present(rows, day)
        rows, slots = rows[keep], slots[keep]
        if rows.size == 0:
            return
        reading = O.read_ct(self.patients, rows, slots, day)
        rec = self.record
        at_baseline = slots == 0
        base_rows = rows[at_baseline]
        self.baseline_sum[base_rows] = reading.sld_mm[at_baseline]
        self.nadir[base_rows] = reading.sld_mm[at_baseline]
        response, bone, label = scan_codes(
            self.patients, rows, slots, reading, self.baseline_sum[rows], self.nadir[rows]
        )
        self.nadir[rows] = np.fmin(self.nadir[rows], reading.sld_mm)
        rec.scan_done[rows, slots] = True
        rec.sld[rows, slots] = reading.sld_mm
        rec.recist[rows, slots] = response
        rec.bone[rows, slots] = bone
        rec.look[rows, slots] = reading.look
        rec.new_lesion[rows, slots] = reading.new_lesion
        rec.label[rows, slots] = label
        opened = label >= 0
        if self.policy is not None and opened.any():
            self._decide(rows[opened], slots[opened], day)

    def _decide(self, rows: np.ndarray, slots: np.ndarray, day: int) -> None:
        if self.observer is None:
            raise TypeError("a FollowUp with a decision policy needs an observer")
        batch = self.observer(self, rows, slots, day)
        decision = self.policy.decide(batch)
        log = self.decisions
        log.rows.append(rows)
        log.slots.append(slots)
        log.p_flare.append(np.asarray(decision.p_flare, dtype=float))
        log.action.append(np.asarray(decision.action, dtype=np.int8))
        if self.closed_loop:
            stop = decision.action == ACTION_STOP
            self.stop_day[rows[stop]] = day

"""Baseline cohort: who the patients are when treatment starts (docs/model.md).

Two designs:

* ``population``: every patient drawn independently from the scenario's shares;
* ``paper57``: each run of 57 consecutive patients is one trial with the paper's exact
  make-up (28 M / 29 F, 6 IIIB / 51 IV, 11 EGFR+, arms 35/5/6/11, 30 with bone
  metastases, all stage IV). Within a trial the patients are ranked by their own
  uniforms, so allocation is random but the counts are fixed, and replicate trials
  differ only in outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from boneflare.simulator import draws as D
from boneflare.simulator.scenarios.schema import ARMS, EGFR_NEGATIVE_ARMS, Scenario

LYTIC, BLASTIC, MIXED = 0, 1, 2
"""Codes of the bone-lesion character at baseline."""

PAPER57_TRIAL_SIZE = 57
"""Patients per trial in the ``paper57`` design (Shi 2021, 1.1)."""
PAPER57_FEMALE = 29  # Shi 2021, 1.1: 28 male, 29 female
PAPER57_STAGE_IV = 51  # Shi 2021, 1.1: 6 IIIB, 51 IV
PAPER57_EGFR_POSITIVE = 11  # Shi 2021, 1.1: 11 EGFR+, 46 EGFR-
PAPER57_ARMS = {"bev_tc": 35, "pd1_pc": 5, "pc": 6}  # Shi 2021, 1.2.1 (EGFR-negative)
PAPER57_BONE_METS = 30  # Shi 2021, 2: 30 with bone metastases at baseline


@dataclass(frozen=True)
class Baseline:
    """Baseline facts of a range of patients (one array entry per patient)."""

    patient_id: np.ndarray  # int32
    female: np.ndarray  # bool
    age: np.ndarray  # float, years
    stage_iv: np.ndarray  # bool (False: IIIB)
    egfr_positive: np.ndarray  # bool
    arm: np.ndarray  # int8, index into ARMS
    bone_mets: np.ndarray  # bool
    character: np.ndarray  # int8, LYTIC / BLASTIC / MIXED (meaningful with bone_mets)
    sld0: np.ndarray  # float, mm

    @property
    def n(self) -> int:
        """Number of patients."""
        return self.patient_id.shape[0]

    def take(self, rows: np.ndarray | slice) -> Baseline:
        """Return the baseline of a subset of patients."""
        return Baseline(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def _kumaraswamy(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Inverse CDF of the Kumaraswamy(a, b) law on [0, 1] (closed form, so cheap)."""
    return (1.0 - (1.0 - u) ** (1.0 / b)) ** (1.0 / a)


def _character(u: np.ndarray, scenario: Scenario) -> np.ndarray:
    c = scenario.cohort
    out = np.full(u.shape, MIXED, dtype=np.int8)
    out[u < c.lytic_fraction + c.blastic_fraction] = BLASTIC
    out[u < c.lytic_fraction] = LYTIC
    return out


def _population_categories(u: np.ndarray, scenario: Scenario):
    c = scenario.cohort
    female = u[:, D.U_SEX] < c.female_fraction
    stage_iv = u[:, D.U_STAGE] < c.stage_iv_fraction
    egfr = u[:, D.U_EGFR] < c.egfr_positive_fraction
    bone = stage_iv & (u[:, D.U_BONE] < c.bone_mets_given_stage_iv)
    if c.arm_assignment != "by_egfr":
        arm = np.full(u.shape[0], ARMS.index(c.arm_assignment), dtype=np.int8)
        return female, stage_iv, egfr, arm, bone
    weights = np.array([getattr(c.arm_mix, a) for a in EGFR_NEGATIVE_ARMS], dtype=float)
    cum = np.cumsum(weights) / weights.sum()
    negative_arm = np.searchsorted(cum, u[:, D.U_ARM], side="right").clip(0, len(cum) - 1)
    codes = np.array([ARMS.index(a) for a in EGFR_NEGATIVE_ARMS], dtype=np.int8)
    arm = np.where(egfr, ARMS.index("egfr_tki"), codes[negative_arm]).astype(np.int8)
    return female, stage_iv, egfr, arm, bone


def _rank_within_trials(values: np.ndarray) -> np.ndarray:
    """Rank (0 = smallest) of each value within its row of a (trials, 57) array."""
    order = np.argsort(values, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(values.shape[1])[None, :], axis=1)
    return ranks


def _paper57_categories(u: np.ndarray, scenario: Scenario):
    """Exact paper make-up per trial; ``u`` covers whole trials (rows multiple of 57)."""
    t = u.reshape(-1, PAPER57_TRIAL_SIZE, u.shape[1])
    female = _rank_within_trials(t[:, :, D.U_SEX]) < PAPER57_FEMALE
    stage_iv = _rank_within_trials(t[:, :, D.U_STAGE]) < PAPER57_STAGE_IV
    egfr = _rank_within_trials(t[:, :, D.U_EGFR]) < PAPER57_EGFR_POSITIVE
    # Arms among EGFR-negative patients: order them by their arm uniform (EGFR+ last).
    arm_rank = _rank_within_trials(np.where(egfr, 2.0, t[:, :, D.U_ARM]))
    arm = np.full(arm_rank.shape, ARMS.index("egfr_tki"), dtype=np.int8)
    start = 0
    for name, count in PAPER57_ARMS.items():
        arm[(arm_rank >= start) & (arm_rank < start + count)] = ARMS.index(name)
        start += count
    bone_rank = _rank_within_trials(np.where(stage_iv, t[:, :, D.U_BONE], 2.0))
    bone = bone_rank < PAPER57_BONE_METS
    if scenario.cohort.arm_assignment != "by_egfr":
        arm[:] = ARMS.index(scenario.cohort.arm_assignment)
    return tuple(x.reshape(-1) for x in (female, stage_iv, egfr, arm, bone))


def make_baseline(scenario: Scenario, seed: int, start: int, draws: D.Draws) -> Baseline:
    """Draw the baseline of patients ``start .. start + draws.n - 1``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    seed : int
        The run's seed (the ``paper57`` design may need the draws of trial mates
        outside the range, which it regenerates from the seed).
    start : int
        Identifier of the first patient; identifiers are consecutive.
    draws : Draws
        The draws of exactly these patients.

    """
    n = draws.n
    u = draws.base_u
    if scenario.cohort.design == "paper57":
        size = PAPER57_TRIAL_SIZE
        lo = (start // size) * size
        hi = -(-(start + n) // size) * size
        if lo == start and hi == start + n:
            u_trials = u
        else:
            u_trials = D.draws_for_range(seed, lo, hi, scenario).base_u
        cats = _paper57_categories(u_trials, scenario)
        female, stage_iv, egfr, arm, bone = (x[start - lo : start - lo + n] for x in cats)
    else:
        female, stage_iv, egfr, arm, bone = _population_categories(u, scenario)
    c = scenario.cohort
    age = c.age_min_years + (c.age_max_years - c.age_min_years) * _kumaraswamy(
        u[:, D.U_AGE], c.age_shape_a, c.age_shape_b
    )
    sld0 = np.maximum(10.0, c.sld0_median_mm * np.exp(c.sld0_log_sd * draws.base_z[:, D.Z_SLD0]))
    return Baseline(
        patient_id=np.arange(start, start + n, dtype=np.int32),
        female=female,
        age=age,
        stage_iv=stage_iv,
        egfr_positive=egfr,
        arm=arm.astype(np.int8),
        bone_mets=bone,
        character=_character(u[:, D.U_CHARACTER], scenario),
        sld0=sld0,
    )

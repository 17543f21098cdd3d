"""What a visit measures: lab values and CT readings from the hidden state (docs/model.md).

These are the model functions both engines call. Each takes a set of patient rows
and one day and works elementwise, so calling it for one patient or for a thousand
gives the same numbers: the engines differ only in how they order the calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boneflare.simulator import draws as D
from boneflare.simulator import kinetics as K
from boneflare.simulator.cohort import BLASTIC, LYTIC, Baseline
from boneflare.simulator.latent import Latent
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.vocabulary import RECIST_PD_MM, RECIST_PD_RISE, RECIST_PR_FALL

# RECIST visit response codes (scans.recist_response).
R_BASELINE, R_CR, R_PR, R_SD, R_PD = range(5)
NOT_STOPPED = -1
"""``stop_day`` of a patient whose treatment was never stopped."""

# Bone-window reading codes (scans.bone_reading).
B_NONE, B_BASELINE, B_STABLE, B_BETTER, B_WORSE = range(5)
# Lesion look codes (scans.lesion_look).
L_NONE, L_LYTIC, L_SCLEROTIC, L_MIXED = range(4)
# Episode truth codes.
FLARE, PROGRESSION = 0, 1

RECIST_PR_FRACTION = 1.0 - RECIST_PR_FALL
"""A partial response is a sum at most this fraction of baseline (0.70)."""
RECIST_PD_FRACTION = 1.0 + RECIST_PD_RISE
"""Progression is a sum at least this multiple of the nadir (1.20) and RECIST_PD_MM over it."""


def _lognormal_sd(*cvs: float) -> float:
    """Log-scale SD of independent multiplicative errors with the given CVs."""
    return float(np.sqrt(sum(np.log1p(cv * cv) for cv in cvs)))


@dataclass(frozen=True)
class Patients:
    """Everything fixed about a set of patients before follow-up starts."""

    scenario: Scenario
    baseline: Baseline
    latent: Latent
    draws: D.Draws


Day = np.ndarray | float
"""The day of each visit: one for all the rows, or one per row."""

OVERFLOW_EXPONENT = 700.0
"""Below this, ``exp`` and ``expm1`` of a float64 are finite (they overflow past 709.78)."""


def _of(day: Day, where: np.ndarray) -> Day:
    """The days of the rows at positions ``where`` (the day itself if it is one for all)."""
    return day[where] if isinstance(day, np.ndarray) and day.ndim else day


def _where(mask: np.ndarray) -> np.ndarray:
    """Positions of the True entries of a 1-D mask (``np.flatnonzero``, less overhead)."""
    return mask.nonzero()[0]


def bone_burden(p: Patients, rows: np.ndarray, day: Day) -> np.ndarray:
    """Bone tumour burden B(t) relative to baseline (1 at day 0)."""
    lat = p.latent
    return K.stein_fojo(lat.bone_decay[rows], lat.bone_growth[rows], day)


def _burden_where_it_counts(p: Patients, rows: np.ndarray, day: Day) -> np.ndarray:
    """B(t) of the rows whose lab values it changes, 1 (the baseline burden) elsewhere.

    It counts with bone metastases. Without, it enters ALP as ``0 x B`` and calcium not
    at all: that is 0 whatever B is, unless B overflows (``0 x inf`` is NaN), which only
    a bone regrowth exponent ``g t`` past :data:`OVERFLOW_EXPONENT` can do. Skipping
    the others gives the same numbers as computing B for every row.
    """
    lat = p.latent
    counts = p.baseline.bone_mets[rows] | (lat.bone_growth[rows] * day > OVERFLOW_EXPONENT)
    if counts.all():
        return bone_burden(p, rows, day)
    burden = np.ones(rows.shape)
    at = _where(counts)
    if at.size:
        burden[at] = bone_burden(p, rows[at], _of(day, at))
    return burden


def healing(p: Patients, rows: np.ndarray, day: Day) -> np.ndarray:
    """Healing activity H(t) in [0, 1] (0 without a flare).

    Without a flare the onset is ``inf`` and H is exactly 0, so it is computed only for
    the rows of patients with one.
    """
    lat = p.latent
    activity = np.zeros(rows.shape)
    at = _where(lat.flare[rows])
    if at.size:
        flaring = rows[at]
        activity[at] = K.healing_activity(
            _of(day, at), lat.flare_onset[flaring], lat.flare_duration[flaring]
        )
    return activity


def true_alp(p: Patients, rows: np.ndarray, day: Day, burden: np.ndarray) -> np.ndarray:
    """Serum ALP without noise: normal level + bone excess x B + healing surge x H (U/L).

    ``burden`` is B(t) of the rows, or 1 where it would not change the value
    (see ``measure_labs``).
    """
    lat = p.latent
    value = lat.alp_normal[rows] + lat.alp_bone_excess[rows] * burden
    # The two terms below are exactly 0 for most rows (H without a flare; the new-lesion
    # excess before the lesion or with baseline bone metastases), and adding 0 changes
    # no bit of a positive value: they are added only where they are not 0.
    at = _where(lat.flare[rows])
    if at.size:
        value[at] += lat.alp_surge[rows[at]] * healing(p, rows[at], _of(day, at))
    # A new bone lesion in a patient without baseline bone metastases adds a rising excess.
    days_since_new = day - lat.new_bone_lesion_day[rows]
    at = _where((days_since_new > 0.0) & ~p.baseline.bone_mets[rows])
    if at.size:
        value[at] += p.scenario.alp.new_lesion_u_per_l_per_day * days_since_new[at]
    return value


def true_calcium(p: Patients, rows: np.ndarray, burden: np.ndarray) -> np.ndarray:
    """Serum calcium without noise: set point + a small bone-burden term (mmol/L).

    ``burden`` is B(t) of the rows (only those with bone metastases matter).
    """
    change = np.where(p.baseline.bone_mets[rows], burden - 1.0, 0.0)
    return np.maximum(
        p.latent.calcium_set_point[rows] + p.scenario.calcium.bone_coef_mmol_per_l * change, 0.5
    )


def measure_labs(
    p: Patients, rows: np.ndarray, slots: np.ndarray, day: Day, z: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return measured ALP (U/L, whole) and calcium (mmol/L, 2 decimals) as reported.

    Noise is multiplicative: within-subject biological and analytical CVs combined
    (the analytical part scaled by ``labs.noise``). ``z`` is the draws' assay noise
    ``lab_z`` at (rows, slots), if the caller has it already.
    """
    s = p.scenario
    if z is None:
        z = p.draws.lab_z[rows, slots]
    sd_alp = _lognormal_sd(s.alp.within_cv, s.alp.analytical_cv * s.labs.noise)
    sd_ca = _lognormal_sd(s.calcium.within_cv, s.calcium.analytical_cv * s.labs.noise)
    burden = _burden_where_it_counts(p, rows, day)
    alp = true_alp(p, rows, day, burden) * np.exp(sd_alp * z[:, D.LAB_Z_ALP])
    ca = true_calcium(p, rows, burden) * np.exp(sd_ca * z[:, D.LAB_Z_CA])
    return np.maximum(np.round(alp), 1.0), np.maximum(np.round(ca, 2), 0.01)


@dataclass(frozen=True)
class CtReading:
    """What one CT shows for a set of patients (arrays aligned with the rows)."""

    sld_mm: np.ndarray  # measured sum of target diameters, whole mm (0: all vanished)
    new_lesion: np.ndarray  # bool: unequivocal new soft-tissue lesion
    bone: np.ndarray  # int8 bone reading code
    look: np.ndarray  # int8 lesion look code
    label: np.ndarray  # int8 truth of a 'worse' reading (FLARE / PROGRESSION), -1 otherwise


def read_ct(
    p: Patients,
    rows: np.ndarray,
    slots: np.ndarray,
    day: Day,
    z: np.ndarray | None = None,
    u: np.ndarray | None = None,
) -> CtReading:
    """Read a CT: measured soft-tissue sum, new lesion, bone window and lesion look.

    A bone reading is 'worse' when present bone progression is seen (chance
    ``bone.ct_sensitivity_progression``) or, failing that, when the healing activity of
    a flare CT can show (a per-patient property, chance ``flare.ct_sensitivity``) is
    high; progression wins where both are present. A 'worse' reading is labelled
    progression when bone progression is present or the patient has truly progressed by
    that day, flare otherwise. Other readings of a patient with bone lesions are
    'better' (burden below ``bone.better_below``) or 'stable'; without any known bone
    lesion, 'none'. The lesion look of a 'worse' reading depends on the baseline
    character (docs/model.md). ``z`` and ``u`` are the draws' ``ct_z`` and ``ct_u`` at
    (rows, slots), if the caller has them already.
    """
    s, lat, base = p.scenario, p.latent, p.baseline
    n = rows.shape[0]
    if z is None:
        z = p.draws.ct_z[rows, slots]
    if u is None:
        u = p.draws.ct_u[rows, slots]
    true_sld = base.sld0[rows] * K.stein_fojo(lat.decay[rows], lat.growth[rows], day)
    measured = np.round(true_sld * np.exp(s.ct.sld_cv * z))
    measured = np.where(true_sld < s.soft_tissue.cr_below_mm, 0.0, np.maximum(measured, 1.0))
    new_lesion = day >= lat.new_lesion_day[rows]

    u_detect = u[:, D.CT_U_DETECT]
    bone_mets = base.bone_mets[rows]
    progressing = day >= lat.bone_event_day[rows]
    worse_progression = progressing & (u_detect < s.bone.ct_sensitivity_progression)
    # A flare CT can show (``flare_ct_visible``, drawn once per patient with chance
    # ``flare.ct_sensitivity``) reads 'worse' at every scan while its activity is high.
    worse_flare = lat.flare_ct_visible[rows] & ~progressing
    at = _where(worse_flare)
    if at.size:
        worse_flare[at] = healing(p, rows[at], _of(day, at)) >= s.flare.visible_above
    worse = worse_progression | worse_flare

    bone = np.full(n, B_NONE, dtype=np.int8)
    bone[bone_mets] = B_STABLE
    at = _where(bone_mets)  # the burden reads 'better' only where there are lesions
    bone[at[bone_burden(p, rows[at], _of(day, at)) < s.bone.better_below]] = B_BETTER
    bone[worse] = B_WORSE

    character = base.character[rows]
    baseline_look = _baseline_look(character)
    look = np.where(bone_mets, baseline_look, L_NONE).astype(np.int8)
    at = _where(worse)  # only a 'worse' reading changes the look
    if at.size:
        look[at] = _worse_look(
            p,
            rows[at],
            character[at],
            baseline_look[at],
            u[at, D.CT_U_LOOK],
            worse_flare[at],
            worse_progression[at],
        )

    label = np.full(n, -1, dtype=np.int8)
    label[worse_flare] = FLARE
    # Once the patient has truly progressed (anywhere), the right call is to stop: a
    # 'worse' reading from then on is never a flare, whatever the bone window shows.
    after_progression = day >= lat.progression_day[rows]
    label[worse_progression | (worse & after_progression)] = PROGRESSION
    return CtReading(measured, new_lesion, bone, look, label)


def _baseline_look(character: np.ndarray) -> np.ndarray:
    """The lesion look of each baseline bone-lesion character (int8)."""
    return np.where(
        character == LYTIC, L_LYTIC, np.where(character == BLASTIC, L_SCLEROTIC, L_MIXED)
    ).astype(np.int8)


def _worse_look(
    p: Patients,
    rows: np.ndarray,
    character: np.ndarray,
    baseline_look: np.ndarray,
    u_look: np.ndarray,
    worse_flare: np.ndarray,
    worse_progression: np.ndarray,
) -> np.ndarray:
    """The lesion look of 'worse' readings (arrays aligned with ``rows``)."""
    s, lat = p.scenario, p.latent
    bone_mets = p.baseline.bone_mets[rows]
    look = np.where(bone_mets, baseline_look, L_NONE).astype(np.int8)
    f, b = s.flare, s.bone
    # Healing: an osteoblastic (sclerotic) reaction with a chance that depends on the
    # baseline character (Kanaoka 2023), otherwise the baseline look.
    sclerotic_chance = np.where(
        character == LYTIC,
        f.sclerotic_look_lytic,
        np.where(character == BLASTIC, f.sclerotic_look_blastic, f.sclerotic_look_mixed),
    )
    flare_look = np.where(u_look < sclerotic_chance, L_SCLEROTIC, baseline_look)
    # Progression: in a patient whose treatment works (the soft tissue responds), the
    # treated bone lesions show the same osteoblastic reaction beside the progressing
    # ones (a sign of response, not of flare: Kanaoka 2023);
    # otherwise the baseline character with chance ``progression_keeps_character``, or
    # else the lytic / sclerotic / mixed mix. Each uniform is rescaled past the chance
    # before it, so one uniform per scan decides the look.
    responded = lat.decay[rows] > lat.growth[rows]
    reaction = np.where(responded, b.progression_reaction * sclerotic_chance, 0.0)
    u_rest = (u_look - reaction) / np.maximum(1.0 - reaction, 1e-12)
    keep = b.progression_keeps_character
    u_mix = (u_rest - keep) / max(1.0 - keep, 1e-12)
    mixed_look = np.where(
        u_mix < b.progression_lytic,
        L_LYTIC,
        np.where(u_mix < b.progression_lytic + b.progression_sclerotic, L_SCLEROTIC, L_MIXED),
    )
    progression_look = np.where(
        u_look < reaction, L_SCLEROTIC, np.where(u_rest < keep, baseline_look, mixed_look)
    )
    look = np.where(worse_flare, flare_look, look)
    return np.where(worse_progression, progression_look, look).astype(np.int8)


def recist_response(
    measured: np.ndarray, new_lesion: np.ndarray, baseline_sum: np.ndarray, nadir: np.ndarray
) -> np.ndarray:
    """RECIST 1.1 visit response from measured sums (soft tissue and new lesions).

    PD: a new lesion, or a sum >= 120% of the nadir and >= nadir + 5 mm; CR: every target
    lesion gone; PR: a sum <= 70% of baseline; otherwise SD (Eisenhauer 2009). The bone
    window is reported apart (``bone_reading``): telling what a 'worse' bone reading
    means is the question this package studies.
    """
    pd_ = new_lesion | (
        (measured >= RECIST_PD_FRACTION * nadir) & (measured - nadir >= RECIST_PD_MM)
    )
    out = np.full(measured.shape, R_SD, dtype=np.int8)
    out[measured <= RECIST_PR_FRACTION * baseline_sum] = R_PR
    out[measured == 0.0] = R_CR
    out[pd_] = R_PD
    return out

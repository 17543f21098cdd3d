"""Each patient's hidden truth: kinetics, progression days, flare, marker set points.

Nothing here is seen by a classifier; it becomes the ``truth`` table. Everything is a
deterministic transform of the patient's draws (docs/model.md, section Soft tissue to Visits).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from boneflare.simulator import draws as D
from boneflare.simulator import kinetics as K
from boneflare.simulator.cohort import Baseline
from boneflare.simulator.scenarios.schema import ARMS, Scenario
from boneflare.simulator.vocabulary import RECIST_PD_MM, RECIST_PD_RISE


def _log_sd_from_cv(cv: float) -> float:
    """Log-scale SD of a lognormal with coefficient of variation ``cv``."""
    return float(np.sqrt(np.log1p(cv * cv)))


@dataclass(frozen=True)
class Latent:
    """Hidden per-patient values (arrays, one entry per patient); days are continuous."""

    decay: np.ndarray  # soft-tissue d, 1/day
    growth: np.ndarray  # soft-tissue g, 1/day
    nonresponder: np.ndarray  # bool
    bone_discordant: np.ndarray  # bool: bone disease does not respond (mixed response)
    bone_decay: np.ndarray  # 1/day
    bone_growth: np.ndarray  # 1/day
    soft_progression_day: np.ndarray  # RECIST rule met by the true sum
    new_lesion_day: np.ndarray  # new soft-tissue lesion appears
    bone_progression_day: np.ndarray  # baseline bone disease regrows (inf without)
    new_bone_lesion_day: np.ndarray  # a new bone lesion appears
    progression_day: np.ndarray  # first of the above: true progression on treatment
    flare: np.ndarray  # bool: a latent healing flare happens
    flare_ct_visible: np.ndarray  # bool: CT can show this flare's healing reaction at all
    flare_onset: np.ndarray  # day (inf without flare)
    flare_duration: np.ndarray  # days from onset to peak activity
    alp_normal: np.ndarray  # U/L
    alp_bone_excess: np.ndarray  # U/L at B = 1 (0 without bone metastases)
    alp_surge: np.ndarray  # U/L at peak healing activity
    calcium_set_point: np.ndarray  # mmol/L
    dropout_day: np.ndarray  # leaves follow-up (inf: never within reach)

    @cached_property
    def bone_event_day(self) -> np.ndarray:
        """Day from which bone progression (old or new lesion) is present.

        Computed once per set of patients: every CT reading compares its day with it.
        """
        return np.minimum(self.bone_progression_day, self.new_bone_lesion_day)

    def take(self, rows: np.ndarray | slice) -> Latent:
        """Return the latent values of a subset of patients."""
        return Latent(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def _arm_values(scenario: Scenario, arm: np.ndarray, attribute: str) -> np.ndarray:
    table = np.array([getattr(scenario.kinetics(a), attribute) for a in ARMS], dtype=float)
    return table[arm]


def _dropout_day(u: np.ndarray, progression_day: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Invert a piecewise-constant hazard (one rate before progression, another after)."""
    h0 = scenario.dropout.hazard_per_day
    h1 = scenario.dropout.hazard_after_progression_per_day
    e = -np.log1p(-u)  # unit exponential
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        before = np.where(h0 > 0, e / h0, np.inf)
        cum_at_progression = h0 * progression_day
        after = np.where(h1 > 0, progression_day + (e - cum_at_progression) / h1, np.inf)
    return np.where(e < cum_at_progression, before, after)


def make_latent(scenario: Scenario, baseline: Baseline, draws: D.Draws) -> Latent:
    """Turn the baseline and draws of a set of patients into their hidden truth."""
    z, u = draws.base_z, draws.base_u
    arm = baseline.arm

    # Soft tissue (docs/model.md): lognormal d and g per arm; non-responders have d = 0.
    nonresponder = u[:, D.U_NONRESPONDER] < _arm_values(scenario, arm, "nonresponder_fraction")
    decay = _arm_values(scenario, arm, "decay_median_per_day") * np.exp(
        _arm_values(scenario, arm, "decay_log_sd") * z[:, D.Z_DECAY]
    )
    decay = np.where(nonresponder, 0.0, decay)
    growth = _arm_values(scenario, arm, "growth_median_per_day") * np.exp(
        _arm_values(scenario, arm, "growth_log_sd") * z[:, D.Z_GROWTH]
    )
    growth = np.where(
        nonresponder, growth * _arm_values(scenario, arm, "nonresponder_growth_factor"), growth
    )
    soft_pd = K.regrowth_day(decay, growth, RECIST_PD_RISE, RECIST_PD_MM / baseline.sld0)
    st = scenario.soft_tissue
    new_lesion = K.threshold_day(
        growth, st.new_lesion_rise_median * np.exp(st.new_lesion_rise_log_sd * z[:, D.Z_NEW_SOFT])
    )

    # Bone (docs/model.md): slower, correlated kinetics; regrowth over the nadir or a new lesion.
    b = scenario.bone
    bone_decay = decay * b.decay_ratio * np.exp(b.ratio_log_sd * z[:, D.Z_BONE_DECAY])
    bone_growth = growth * b.growth_ratio * np.exp(b.ratio_log_sd * z[:, D.Z_BONE_GROWTH])
    # Mixed response: in some patients the bone disease ignores the treatment.
    discordant = baseline.bone_mets & (u[:, D.U_BONE_RESPONSE] < b.discordant_fraction)
    bone_decay = np.where(discordant, 0.0, bone_decay)
    bone_growth = np.where(discordant, bone_growth * b.discordant_growth_factor, bone_growth)
    # Bone progression needs bone disease: solved only for patients with bone metastases.
    mets = baseline.bone_mets
    bone_pd = np.full(baseline.n, np.inf)
    bone_pd[mets] = K.regrowth_day(bone_decay[mets], bone_growth[mets], b.progression_rise)
    new_bone = K.threshold_day(
        growth, b.new_lesion_rise_median * np.exp(b.new_lesion_rise_log_sd * z[:, D.Z_NEW_BONE])
    )
    progression = np.minimum.reduce([soft_pd, new_lesion, bone_pd, new_bone])

    # Flare (docs/model.md): only with bone metastases whose bone and soft tissue respond;
    # more likely the faster the bone responds.
    f = scenario.flare
    responds = (
        baseline.bone_mets
        & (bone_decay > bone_growth)
        & (decay > growth)
        & (progression > f.controlled_min_days)
    )
    chance = f.propensity * -np.expm1(-bone_decay / f.response_scale_per_day)
    flare = f.enabled & responds & (u[:, D.U_FLARE] < chance)
    # CT sensitivity is a property of the lesion, not of the scan: a healing reaction CT
    # cannot show at one scan it cannot show at the next. Given a flare, U_FLARE / chance
    # is a fresh uniform, so the same draw decides it (docs/model.md, section Bone).
    ct_visible = flare & (u[:, D.U_FLARE] < chance * f.ct_sensitivity)
    onset = np.where(flare, f.onset_median_days * np.exp(f.onset_log_sd * z[:, D.Z_ONSET]), np.inf)
    duration = f.duration_median_days * np.exp(f.duration_log_sd * z[:, D.Z_DURATION])

    # Markers (docs/model.md).
    a = scenario.alp
    alp_normal = a.normal_median_u_per_l * np.exp(
        _log_sd_from_cv(a.normal_between_cv) * z[:, D.Z_ALP_NORMAL]
    )
    excess = np.where(
        baseline.bone_mets,
        a.bone_excess_median_u_per_l * np.exp(a.bone_excess_log_sd * z[:, D.Z_ALP_EXCESS]),
        0.0,
    )
    c = scenario.calcium
    calcium = c.set_point_mean_mmol_per_l + c.set_point_sd_mmol_per_l * z[:, D.Z_CA_SET]
    calcium = np.maximum(calcium, 0.5)

    return Latent(
        decay=decay,
        growth=growth,
        nonresponder=nonresponder,
        bone_discordant=discordant,
        bone_decay=bone_decay,
        bone_growth=bone_growth,
        soft_progression_day=soft_pd,
        new_lesion_day=new_lesion,
        bone_progression_day=bone_pd,
        new_bone_lesion_day=new_bone,
        progression_day=progression,
        flare=flare,
        flare_ct_visible=ct_visible,
        flare_onset=onset,
        flare_duration=duration,
        alp_normal=alp_normal,
        alp_bone_excess=excess,
        alp_surge=a.healing_surge_ratio * excess,
        calcium_set_point=calcium,
        dropout_day=_dropout_day(u[:, D.U_DROPOUT], progression, scenario),
    )

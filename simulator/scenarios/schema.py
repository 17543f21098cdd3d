"""The scenario: every parameter of the model, with unit, allowed range and source.

The defaults here are the model's neutral starting point; the shipped ``paper`` preset
overrides the fitted ones (see ``boneflare calibrate fit``). Sources:

* "Shi 2021" is the source paper (doi:10.21203/rs.3.rs-518758/v1), with the section,
  table or figure named;
* literature anchors are named by first author and year (see docs/model.md);
* "fitted" means estimated against the paper's targets by ``boneflare calibrate fit``;
* "design" marks a modelling choice, explained in docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from boneflare.simulator.scenarios.params import param, section
from boneflare.simulator.vocabulary import ARMS

EGFR_NEGATIVE_ARMS: tuple[str, ...] = ("bev_tc", "pd1_pc", "pc")
"""Arms given to EGFR-negative patients (Shi 2021, 1.2.1)."""


@dataclass(frozen=True)
class ArmMix:
    """Relative weights of the EGFR-negative arms (EGFR-positive patients get the TKI)."""

    bev_tc: float = param(
        35.0,
        doc="weight of bevacizumab + paclitaxel + carboplatin",
        source="Shi 2021, 1.2.1: 35 of 46",
        low=0.0,
        high=1e6,
    )
    pd1_pc: float = param(
        5.0,
        doc="weight of PD-1 inhibitor + pemetrexed + carboplatin",
        source="Shi 2021, 1.2.1: 5 of 46",
        low=0.0,
        high=1e6,
    )
    pc: float = param(
        6.0,
        doc="weight of pemetrexed + carboplatin",
        source="Shi 2021, 1.2.1: 6 of 46",
        low=0.0,
        high=1e6,
    )


@dataclass(frozen=True)
class Cohort:
    """Who enters the cohort: baseline make-up and treatment allocation."""

    design: str = param(
        "population",
        choices=("population", "paper57"),
        doc="'population': independent draws per patient; 'paper57': every "
        "consecutive 57 patients form one trial with the paper's exact make-up",
        source="design (section Patients at baseline)",
    )
    female_fraction: float = param(
        29 / 57, doc="share of women", source="Shi 2021, 1.1: 29/57", low=0.0, high=1.0
    )
    age_min_years: float = param(
        18.0,
        unit="year",
        doc="lowest age admitted",
        source="Shi 2021, 1.1 inclusion criteria",
        low=0.0,
        high=120.0,
    )
    age_max_years: float = param(
        75.0,
        unit="year",
        doc="highest age admitted",
        source="Shi 2021, 1.1 inclusion criteria",
        low=0.0,
        high=120.0,
    )
    age_shape_a: float = param(
        3.63,
        doc="first Kumaraswamy shape of age on [min, max]",
        source="design: median 62, 1.1% below 33 (Shi 2021, 1.1)",
        low=0.1,
        high=100.0,
    )
    age_shape_b: float = param(
        1.4,
        doc="second Kumaraswamy shape of age on [min, max]",
        source="design: median 62, 1.1% below 33 (Shi 2021, 1.1)",
        low=0.1,
        high=100.0,
    )
    stage_iv_fraction: float = param(
        51 / 57,
        doc="share with stage IV (the rest IIIB)",
        source="Shi 2021, 1.1: 51/57",
        low=0.0,
        high=1.0,
    )
    egfr_positive_fraction: float = param(
        11 / 57, doc="share with an EGFR mutation", source="Shi 2021, 1.1: 11/57", low=0.0, high=1.0
    )
    bone_mets_given_stage_iv: float = param(
        30 / 51,
        doc="share with bone metastases among stage IV (bone metastases are M1: none at IIIB)",
        source="Shi 2021, 2: 30 of 57, all stage IV",
        low=0.0,
        high=1.0,
    )
    arm_assignment: str = param(
        "by_egfr",
        choices=("by_egfr", *ARMS),
        doc="'by_egfr': EGFR+ -> egfr_tki, EGFR- -> arm_mix; or one arm for everybody",
        source="Shi 2021, 1.2",
    )
    arm_mix: ArmMix = section(ArmMix)
    lytic_fraction: float = param(
        0.46,
        doc="share of patients whose bone lesions look lytic",
        source="NSCLC series cited in docs/model.md: 46% lytic",
        low=0.0,
        high=1.0,
    )
    blastic_fraction: float = param(
        0.43,
        doc="share whose bone lesions look blastic (the rest mixed)",
        source="NSCLC series cited in docs/model.md: 43% blastic",
        low=0.0,
        high=1.0,
    )
    sld0_median_mm: float = param(
        62.0,
        unit="mm",
        doc="median baseline sum of target-lesion diameters",
        source="design: typical first-line NSCLC trial baseline",
        low=10.0,
        high=500.0,
    )
    sld0_log_sd: float = param(
        0.45, doc="log-scale spread of the baseline sum", source="design", low=0.0, high=3.0
    )


@dataclass(frozen=True)
class ArmKinetics:
    """Stein-Fojo soft-tissue kinetics of one arm: SLD(t) = SLD0 (e^{-dt} + e^{gt} - 1)."""

    decay_median_per_day: float = param(
        0.006,
        unit="1/day",
        doc="median decay rate d among responders",
        source="fitted (Table 1 best response)",
        low=0.0,
        high=1.0,
    )
    decay_log_sd: float = param(
        0.7, doc="log-scale spread of d", source="fitted", low=0.0, high=5.0
    )
    growth_median_per_day: float = param(
        0.0015,
        unit="1/day",
        doc="median regrowth rate g",
        source="fitted (PFS anchors, targets.toml [literature])",
        low=1e-6,
        high=1.0,
    )
    growth_log_sd: float = param(
        0.7, doc="log-scale spread of g", source="fitted", low=0.0, high=5.0
    )
    nonresponder_fraction: float = param(
        0.2,
        doc="share with no treatment effect (d = 0)",
        source="fitted (Table 1 PD)",
        low=0.0,
        high=1.0,
    )
    nonresponder_growth_factor: float = param(
        4.0, doc="regrowth rate multiplier of non-responders", source="fitted", low=0.0, high=100.0
    )


@dataclass(frozen=True)
class Arms:
    """Kinetics per treatment arm."""

    bev_tc: ArmKinetics = section(ArmKinetics)
    pd1_pc: ArmKinetics = section(ArmKinetics)
    pc: ArmKinetics = section(ArmKinetics)
    egfr_tki: ArmKinetics = section(ArmKinetics)


@dataclass(frozen=True)
class SoftTissue:
    """New soft-tissue lesions and CR."""

    new_lesion_rise_median: float = param(
        1.0,
        doc="median systemic regrowth (e^{gt} - 1) at which a new soft-tissue lesion appears",
        source="design",
        low=0.0,
        high=100.0,
    )
    new_lesion_rise_log_sd: float = param(
        1.0, doc="log-scale spread of that threshold", source="design", low=0.0, high=5.0
    )
    cr_below_mm: float = param(
        4.0,
        unit="mm",
        doc="true sum below which every target lesion has vanished (CR)",
        source="design",
        low=0.0,
        high=50.0,
    )


@dataclass(frozen=True)
class Bone:
    """Bone tumour burden B(t), B(0) = 1, and true bone progression."""

    decay_ratio: float = param(
        1.5,
        doc="bone decay rate as a multiple of the soft-tissue d (the burden ALP follows)",
        source="fitted (Figure 1 ALP % of baseline, Shi 2021)",
        low=0.0,
        high=10.0,
    )
    growth_ratio: float = param(
        0.5,
        doc="bone regrowth rate as a multiple of the soft-tissue g",
        source="design",
        low=0.0,
        high=10.0,
    )
    ratio_log_sd: float = param(
        0.35, doc="log-scale patient spread of both ratios", source="design", low=0.0, high=5.0
    )
    discordant_fraction: float = param(
        0.15,
        doc="share of bone-metastatic patients whose bone disease does not respond, "
        "whatever the soft tissue does (mixed response)",
        source="design, checked by the dissociated response at the first CT (1-5% of "
        "patients: Sato 2021; targets.toml [large_n.dissociated_response])",
        low=0.0,
        high=1.0,
    )
    discordant_growth_factor: float = param(
        6.0,
        doc="bone regrowth rate multiplier of a discordant patient",
        source="design",
        low=0.0,
        high=100.0,
    )
    progression_rise: float = param(
        0.118,
        doc="regrowth over the bone nadir that is progression",
        source="UICC/WHO bone progression: a 25% increase in bidimensional size "
        "(Hayashi 2013, Table 1), on the burden's diameter scale: 1.25^0.5 - 1 "
        "(docs/model.md)",
        low=0.0,
        high=10.0,
    )
    new_lesion_rise_median: float = param(
        2.5,
        doc="median systemic regrowth at which a new bone lesion appears (any patient)",
        source="design",
        low=0.0,
        high=100.0,
    )
    new_lesion_rise_log_sd: float = param(
        1.0, doc="log-scale spread of that threshold", source="design", low=0.0, high=5.0
    )
    better_below: float = param(
        0.707,
        doc="bone burden below which the CT reads 'better'",
        source="UICC/WHO bone partial response: a 50% decrease in bidimensional size "
        "(Hayashi 2013, Table 1), on the burden's diameter scale: 0.5^0.5 "
        "(docs/model.md)",
        low=0.0,
        high=1.0,
    )
    ct_sensitivity_progression: float = param(
        0.85,
        doc="chance that a CT shows present bone progression as 'worse'",
        source="design; CT bone sensitivity ~0.77 (Shi 2021, ref 24)",
        low=0.0,
        high=1.0,
    )
    progression_reaction: float = param(
        1.0,
        doc="difficulty dial: chance, relative to a flare's, that a progression reading of "
        "a patient whose soft tissue responds shows the osteoblastic reaction "
        "(0: never, easy; 1: as often as a flare's, Kanaoka 2023)",
        source="design: Kanaoka 2023 (reaction is a sign of response); docs/scenarios.md",
        low=0.0,
        high=1.0,
    )
    progression_keeps_character: float = param(
        0.5,
        doc="chance a progression reading looks like the baseline lesions (else drawn "
        "from the lytic / sclerotic / mixed mix below)",
        source="design: a sclerotic or mixed baseline progresses with blastic deposits "
        "(docs/model.md, section Bone)",
        low=0.0,
        high=1.0,
    )
    progression_lytic: float = param(
        0.6,
        doc="chance a progressing lesion not keeping the baseline look looks lytic",
        source="design (lung metastases mostly lytic, Shi 2021)",
        low=0.0,
        high=1.0,
    )
    progression_sclerotic: float = param(
        0.15,
        doc="chance a progressing lesion not keeping the baseline look looks sclerotic "
        "(the rest mixed)",
        source="design",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class Flare:
    """The latent healing flare and how CT shows it."""

    enabled: bool = param(True, doc="whether flares happen at all", source="design")
    propensity: float = param(
        0.7,
        doc="highest chance of a latent flare in a responding patient with bone metastases",
        source="fitted (23.3% incidence, 3 of 7 flares with SD, Shi 2021 Table 2)",
        low=0.0,
        high=1.0,
    )
    response_scale_per_day: float = param(
        0.006,
        unit="1/day",
        doc="bone decay rate at which the flare chance reaches 63% of its highest value",
        source="fitted (flare group falls furthest, Shi 2021 Figure 1)",
        low=1e-6,
        high=1.0,
    )
    onset_median_days: float = param(
        14.0,
        unit="day",
        doc="median latent onset of healing activity",
        source="fitted (onsets, Shi 2021 Table 2)",
        low=0.0,
        high=365.0,
    )
    onset_log_sd: float = param(
        0.9, doc="log-scale spread of the onset (right-skewed)", source="fitted", low=0.0, high=5.0
    )
    duration_median_days: float = param(
        30.0,
        unit="day",
        doc="median time from onset to peak activity (theta)",
        source="fitted",
        low=1.0,
        high=365.0,
    )
    duration_log_sd: float = param(
        0.3, doc="log-scale spread of theta", source="fitted", low=0.0, high=5.0
    )
    controlled_min_days: float = param(
        120.0,
        unit="day",
        doc="a flare needs the disease to stay controlled (no true progression) this long",
        source="design: flare only on effective treatment (MDA criteria; Shi 2021, 4)",
        low=0.0,
        high=3650.0,
    )
    visible_above: float = param(
        0.35, doc="activity H (peak 1) from which CT can see it", source="fitted", low=0.0, high=1.0
    )
    ct_sensitivity: float = param(
        0.77,
        doc="chance that CT can show a patient's healing reaction as 'worse' at all "
        "(drawn once per flare: a property of the lesion, not of the scan)",
        source="Shi 2021, 4: CT sensitivity 77% (ref 24); per lesion: design (docs/model.md)",
        low=0.0,
        high=1.0,
    )
    sclerotic_look_lytic: float = param(
        0.76,
        doc="chance a flare reading of a lytic baseline looks sclerotic (else lytic)",
        source="Kanaoka 2023: osteoblastic reaction at first CT in 76% of lytic baselines",
        low=0.0,
        high=1.0,
    )
    sclerotic_look_blastic: float = param(
        0.94,
        doc="chance a flare reading of a blastic baseline looks sclerotic (else as baseline)",
        source="Kanaoka 2023: osteoblastic reaction at first CT in 94% of sclerotic baselines",
        low=0.0,
        high=1.0,
    )
    sclerotic_look_mixed: float = param(
        0.82,
        doc="chance a flare reading of a mixed baseline looks sclerotic (else mixed)",
        source="Kanaoka 2023: osteoblastic reaction at first CT in 82% of mixed baselines",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class Alp:
    """Serum alkaline phosphatase: ALP = A_normal + a_B B(t) + a_H H(t), times noise."""

    normal_median_u_per_l: float = param(
        75.0,
        unit="U/L",
        doc="median non-tumour ALP",
        source="reference range 45-125 (Shi 2021, 1.3.2)",
        low=1.0,
        high=1000.0,
    )
    normal_between_cv: float = param(
        0.249,
        doc="between-subject CV of the non-tumour level",
        source="EuBIVAS, Carobene 2016",
        low=0.0,
        high=2.0,
    )
    bone_excess_median_u_per_l: float = param(
        40.0,
        unit="U/L",
        doc="median bone-tumour excess at baseline",
        source="fitted (Figure 1; baseline ALP above 125 U/L in 8 of 30 bone-metastatic "
        "patients, Min 2009)",
        low=0.0,
        high=5000.0,
    )
    bone_excess_log_sd: float = param(
        0.6, doc="log-scale spread of the bone excess", source="design", low=0.0, high=5.0
    )
    healing_surge_ratio: float = param(
        0.3,
        doc="peak healing surge as a multiple of the bone excess",
        source="fitted (4 of 7 transient rises, Shi 2021 Fig. 7)",
        low=0.0,
        high=20.0,
    )
    new_lesion_u_per_l_per_day: float = param(
        0.4,
        unit="U/L/day",
        doc="ALP rise per day after a new bone lesion in "
        "a patient without baseline bone metastases",
        source="design",
        low=0.0,
        high=100.0,
    )
    within_cv: float = param(
        0.116,
        doc="within-subject biological CV over months of treatment",
        source="Seibel 2002 (total 12% with the assay CV)",
        low=0.0,
        high=1.0,
    )
    analytical_cv: float = param(
        0.03,
        doc="analytical CV of the assay",
        source="design (automated analyser, Shi 2021 1.3.2)",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class Calcium:
    """Serum calcium: a personal set point, a small bone-burden term, and noise."""

    set_point_mean_mmol_per_l: float = param(
        2.31,
        unit="mmol/L",
        doc="mean personal set point",
        source="reference range 2.03-2.60 (Shi 2021, 1.3.2)",
        low=0.5,
        high=5.0,
    )
    set_point_sd_mmol_per_l: float = param(
        0.11,
        unit="mmol/L",
        doc="between-subject SD of the set point",
        source="reference range 2.03-2.60",
        low=0.0,
        high=2.0,
    )
    bone_coef_mmol_per_l: float = param(
        0.02,
        unit="mmol/L",
        doc="calcium change per unit change of bone burden",
        source="design: no group median moves > 5% (Shi 2021 Figure 1B)",
        low=-1.0,
        high=1.0,
    )
    within_cv: float = param(
        0.02, doc="within-subject biological CV", source="Cotlove 1970", low=0.0, high=1.0
    )
    analytical_cv: float = param(
        0.015, doc="analytical CV of the assay", source="design", low=0.0, high=1.0
    )


@dataclass(frozen=True)
class Labs:
    """The laboratory schedule: a draw before each 21-day cycle."""

    interval_days: int = param(
        21,
        unit="day",
        doc="cycle length; a draw before each cycle",
        source="Shi 2021, 1.3.2",
        low=1,
        high=365,
    )
    delay_fraction: float = param(
        0.2, doc="share of cycles that start late", source="design", low=0.0, high=1.0
    )
    delay_max_days: int = param(
        7, unit="day", doc="longest delay of a late cycle", source="design", low=0, high=60
    )
    missed_fraction: float = param(
        0.04, doc="share of draws that are missed", source="design", low=0.0, high=1.0
    )
    noise: float = param(
        1.0,
        doc="multiplier of the analytical CV of both assays",
        source="design (scenario knob)",
        low=0.0,
        high=100.0,
    )


@dataclass(frozen=True)
class Ct:
    """The CT schedule and what a CT measures."""

    interval_days: int = param(
        42,
        unit="day",
        doc="days between planned CT scans",
        source="Shi 2021, 1.3.1: every six weeks",
        low=7,
        high=365,
    )
    jitter_min_days: int = param(
        -3,
        unit="day",
        doc="earliest scheduling offset",
        source="fitted (onsets 41-45 days, Shi 2021 Table 2)",
        low=-60,
        high=0,
    )
    jitter_max_days: int = param(
        7,
        unit="day",
        doc="latest scheduling offset",
        source="fitted (onsets 41-45 days, Shi 2021 Table 2)",
        low=0,
        high=60,
    )
    sld_cv: float = param(
        0.07,
        doc="reader CV of a measured sum of diameters",
        source="design (docs/model.md: ~5-10%)",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class Dropout:
    """Leaving follow-up (death, withdrawal): a hazard that rises after progression."""

    hazard_per_day: float = param(
        0.0003,
        unit="1/day",
        doc="drop-out hazard before progression",
        source="fitted (25 of 30 with five-month labs, Shi 2021 2)",
        low=0.0,
        high=1.0,
    )
    hazard_after_progression_per_day: float = param(
        0.004,
        unit="1/day",
        doc="drop-out hazard after true progression",
        source="design",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario: everything the simulator needs besides a seed."""

    name: str = "custom"
    description: str = ""
    horizon_days: int = param(
        365, unit="day", doc="length of follow-up", source="design", low=1, high=3650
    )
    cohort: Cohort = section(Cohort)
    arms: Arms = section(Arms)
    soft_tissue: SoftTissue = section(SoftTissue)
    bone: Bone = section(Bone)
    flare: Flare = section(Flare)
    alp: Alp = section(Alp)
    calcium: Calcium = section(Calcium)
    labs: Labs = section(Labs)
    ct: Ct = section(Ct)
    dropout: Dropout = section(Dropout)

    def kinetics(self, arm: str) -> ArmKinetics:
        """Return the kinetics of one arm by name."""
        return getattr(self.arms, arm)

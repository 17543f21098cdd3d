"""Single-criterion clinical rules: RECIST read naively, soft-tissue concordance, timing, ALP.

Each rule turns one clinical criterion into a graded P(flare), so that ROC AUC and
calibration mean something: the criterion is scored on a log-odds scale whose zero is
the criterion's published cut-off, and whose unit is the size of an error of
measurement (or of the criterion's own uncertainty). The scores are public functions
of the feature table (:func:`~boneflare.classifiers.features.extract_features`), reused by
:class:`~boneflare.classifiers.combined.CombinedRule`. A missing input gives a score of 0
(P(flare) = 0.5: the rule has nothing to say).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import RECIST_PD_MM, RECIST_PD_RISE, ObservedBatch

RECIST_PD_PCT = 100.0 * RECIST_PD_RISE
"""RECIST 1.1: progression is a sum >= 20% over the nadir and >= RECIST_PD_MM over it."""
SLD_ERROR_PCT = 10.0
"""CT reader error of a sum of diameters, ~5-10% (docs/model.md, section Soft tissue)."""
NEW_LESION_LOG_ODDS = -4.0
"""An unequivocal new soft-tissue lesion is RECIST PD whatever the sum (Eisenhauer 2009):
the score is then at most minus four units of measurement error, beyond any reader's
doubt (odds of flare at most 1/55)."""
FLARE_RARE_AFTER_DAYS = 182.0
"""Flares occur 2 weeks to 3 months after the start, rarely after 6 months (Shi 2021,
discussion, citing Schneider 1994)."""
MONTH_DAYS = 30.0
"""Unit of the late-episode penalty: each month after 6 months lowers the odds e-fold."""
PCWG3_WINDOW_DAYS = 84.0
"""PCWG3: flare is expected at the first reassessment, 8-12 weeks (Scher 2016); the rule's
P(flare) crosses 0.5 at 12 weeks."""
PCWG3_WINDOW_SOFTNESS_DAYS = 14.0
"""Half the 8-to-12-week span: the window's edge is blurred over 2 weeks either side."""
ALP_WITHIN_CV = 0.053
"""Within-subject biological CV of total ALP in healthy volunteers, 5.3% (EuBIVAS,
Carobene 2016): the figure published reference change values are built on. Patients
followed over months vary more (12% in all, Seibel 2002; docs/model.md, Serum markers)."""
ALP_ANALYTICAL_CV = 0.03
"""Analytical CV of an ALP assay, a few per cent (docs/model.md, section Serum markers)."""


def _log_odds_from_p(p: np.ndarray, clip: float = 1e-3) -> np.ndarray:
    p = np.clip(p, clip, 1.0 - clip)
    return np.log(p / (1.0 - p))


def soft_tissue_log_odds(
    features: pd.DataFrame,
    error_pct: float = SLD_ERROR_PCT,
    rare_after_days: float = FLARE_RARE_AFTER_DAYS,
) -> np.ndarray:
    """Log-odds of flare from the soft tissue at the decision CT (MDA criteria).

    ``(20 - % change over the nadir) / error_pct``: positive while the soft tissue
    responds or is stable (RECIST PR/SD), negative past RECIST's progression cut-off.
    A new soft-tissue lesion is RECIST PD whatever the sum: the score is then at most
    :data:`NEW_LESION_LOG_ODDS` (and lower still if the sum progresses too). Minus one
    per month after ``rare_after_days``. A nadir of 0 (complete response) counts as a 100% rise
    when the sum reappears by >= 5 mm.
    """
    change = features["sld_pct_nadir"].to_numpy()
    mm = features["sld_mm_nadir"].to_numpy()
    change = np.where(np.isnan(change) & (mm >= RECIST_PD_MM), 100.0, change)
    change = np.where(np.isnan(change) & np.isfinite(mm), 0.0, change)
    score = (RECIST_PD_PCT - change) / error_pct
    new = features["new_lesion"].to_numpy() > 0
    score = np.where(new, np.minimum(score, 0.0) + NEW_LESION_LOG_ODDS, score)
    late = np.maximum(features["days_on_treatment"].to_numpy() - rare_after_days, 0.0)
    score = score - late / MONTH_DAYS
    return np.nan_to_num(score, nan=0.0)


def timing_log_odds(
    features: pd.DataFrame,
    window_days: float = PCWG3_WINDOW_DAYS,
    softness_days: float = PCWG3_WINDOW_SOFTNESS_DAYS,
) -> np.ndarray:
    """Log-odds of flare from the decision day: ``(window_days - day) / softness_days``."""
    day = features["days_on_treatment"].to_numpy()
    return np.nan_to_num((window_days - day) / softness_days, nan=0.0)


def alp_fall_probability(
    features: pd.DataFrame,
    within_cv: float = ALP_WITHIN_CV,
    analytical_cv: float = ALP_ANALYTICAL_CV,
) -> np.ndarray:
    """P(the true ALP is below baseline), given the latest value as % of the first.

    The difference of two values of one person has SD ``sqrt(2 (CVi^2 + CVa^2))`` (the
    reference-change-value argument, Fraser 2001): about 8.6% of baseline by default.
    The probability is ``Phi((100 - pct) / sd)``; 0.5 without two ALP values.
    """
    pct = features["alp_pct_baseline"].to_numpy()
    sd = 100.0 * np.sqrt(2.0 * (within_cv**2 + analytical_cv**2))
    p = ndtr((100.0 - pct) / sd)
    single = features["alp_count"].to_numpy() < 2
    return np.where(np.isnan(p) | single, 0.5, p)


class RecistNaive(FlareClassifier):
    """RECIST 1.1 read without flare awareness: every worse bone reading is progression.

    P(flare) is 0 for every episode (so its ROC AUC is 0.5): the reference that the
    paper warns against, stopping effective treatment at every flare.
    """

    name = "recist_naive"
    description = "RECIST 1.1 read without flare awareness: every worse bone reading is progression"

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        return np.zeros(len(batch))


class SoftTissueConcordance(FlareClassifier):
    """MDA criteria: a worse bone reading while the soft tissue responds or is stable is flare.

    P(flare) is ``expit`` of :func:`soft_tissue_log_odds`: 0.5 exactly at RECIST's
    progression cut-off (+20% over the nadir), about 0.88 with a sum unchanged from its
    nadir, near 0 with a new soft-tissue lesion; lowered for episodes past 6 months
    (flare is an early event). Source: MD Anderson bone response criteria (Hamaoka
    2004), flare only with a response elsewhere (Shi 2021, discussion).

    Parameters
    ----------
    error_pct : float
        Unit of the log-odds: the CT reader error of the sum, in %.
    rare_after_days : float
        Days after which the odds fall by e per month.

    """

    name = "soft_tissue_concordance"
    description = "MDA criteria: worse bone while soft tissue is PR/SD early in treatment is flare"

    def __init__(
        self, error_pct: float = SLD_ERROR_PCT, rare_after_days: float = FLARE_RARE_AFTER_DAYS
    ):
        self.error_pct = error_pct
        self.rare_after_days = rare_after_days

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        score = soft_tissue_log_odds(extract_features(batch), self.error_pct, self.rare_after_days)
        return expit(score)


class TimingWindow(FlareClassifier):
    """PCWG3 flare window: a worse bone reading in the first ~12 weeks is flare.

    P(flare) is ``expit((window_days - day) / softness_days)``: 0.5 at 12 weeks, 0.88 at
    8 weeks, 0.12 at 16 weeks. Sources: PCWG3 flare window of 8-12 weeks (Scher 2016);
    flares 2 weeks to 3 months after the start (Shi 2021, discussion).

    Parameters
    ----------
    window_days : float
        Day at which P(flare) is 0.5.
    softness_days : float
        Days per unit of log-odds around the window's edge.

    """

    name = "timing_window"
    description = "PCWG3 flare window: worse bone in the first ~12 weeks is flare"

    def __init__(
        self,
        window_days: float = PCWG3_WINDOW_DAYS,
        softness_days: float = PCWG3_WINDOW_SOFTNESS_DAYS,
    ):
        self.window_days = window_days
        self.softness_days = softness_days

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        features = extract_features(batch)
        return expit(timing_log_odds(features, self.window_days, self.softness_days))


class AlpTrend(FlareClassifier):
    """ALP trend: falling ALP (vs baseline) is flare, rising ALP is progression.

    P(flare) is :func:`alp_fall_probability`: the probability that the patient's true
    ALP is below its baseline given the latest value, under within-subject and assay
    noise; 0.5 without two values. Sources: Shi 2021, Figure 1 (flare and benefit
    groups fall below baseline, the progression group rises); stable or falling ALP
    predicts flare (Cancers 2022).

    Parameters
    ----------
    within_cv : float
        Within-subject biological CV of ALP.
    analytical_cv : float
        Analytical CV of the assay.

    """

    name = "alp_trend"
    description = "Shi 2021 Figure 1: ALP falling vs baseline is flare, rising is progression"

    def __init__(self, within_cv: float = ALP_WITHIN_CV, analytical_cv: float = ALP_ANALYTICAL_CV):
        self.within_cv = within_cv
        self.analytical_cv = analytical_cv

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        features = extract_features(batch)
        return alp_fall_probability(features, self.within_cv, self.analytical_cv)

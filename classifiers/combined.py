"""The paper's recommendation as a rule: combine imaging, timing and ALP (Shi 2021)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.classifiers.rules import (
    _log_odds_from_p,
    alp_fall_probability,
    soft_tissue_log_odds,
    timing_log_odds,
)
from boneflare.simulator.observed import ObservedBatch

SCLEROTIC_LOG_ODDS = 1.0
"""A sclerotic look is osteoblastic healing, a lytic one destruction (MDA criteria,
Hamaoka 2004; the 7 flares of Shi 2021 were osteogenic sclerosis): one unit of log-odds
either way (odds x e), a mixed look none."""
NO_BONE_METS_LOG_ODDS = float(np.log(3.0 / 24.0))
"""All 7 flares of Shi 2021 were in the 30 patients with bone metastases at baseline, 0
of the 27 without: the rule-of-three 95% upper bound is 3/27, odds 3/24 (log -2.08)."""


class CombinedRule(FlareClassifier):
    """Soft tissue + timing + ALP + lesion look, as the paper recommends.

    The log-odds of flare are the mean of three criteria's log-odds (a logarithmic
    opinion pool: soft-tissue concordance, the PCWG3 timing window and the ALP trend,
    see :mod:`boneflare.classifiers.rules`), plus the lesion look (``look_log_odds`` for a
    sclerotic look, minus it for a lytic one) and ``no_bone_mets_log_odds`` when the
    patient had no bone metastasis at baseline (the 'worse' reading is then a new bone
    lesion). Averaging, rather than summing, the three criteria keeps the rule from
    counting the same response three times (soft tissue and ALP both follow it).

    Parameters
    ----------
    look_log_odds : float
        Log-odds added for a sclerotic look and removed for a lytic one.
    no_bone_mets_log_odds : float
        Log-odds added when no bone metastasis was known at baseline.

    """

    name = "combined_rule"
    description = "Shi 2021's advice: soft tissue + timing + ALP trend + lesion look, pooled"

    def __init__(
        self,
        look_log_odds: float = SCLEROTIC_LOG_ODDS,
        no_bone_mets_log_odds: float = NO_BONE_METS_LOG_ODDS,
    ):
        self.look_log_odds = look_log_odds
        self.no_bone_mets_log_odds = no_bone_mets_log_odds

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        f = extract_features(batch)
        pooled = (
            soft_tissue_log_odds(f) + timing_log_odds(f) + _log_odds_from_p(alp_fall_probability(f))
        ) / 3.0
        look = f["look_sclerotic"].to_numpy() - f["look_lytic"].to_numpy()
        no_mets = 1.0 - f["bone_mets"].to_numpy()
        return expit(pooled + self.look_log_odds * look + self.no_bone_mets_log_odds * no_mets)

"""An example boneflare plugin: soft tissue and ALP must agree before calling flare."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from boneflare.classifiers import FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import ObservedBatch


class SoftTissueAndAlp(FlareClassifier):
    """Flare when the soft tissue is not progressing and ALP has not risen.

    P(flare) is ``expit(steepness * (alp_rise_pct - rise))``, where ``rise`` is the
    latest ALP's % change from baseline (0 without labs), minus ``steepness *
    alp_rise_pct`` again when the decision CT reads RECIST PD.

    Parameters
    ----------
    alp_rise_pct : float
        ALP rise (% of baseline) at which P(flare) is 0.5.
    steepness : float
        Log-odds per percentage point of ALP.

    """

    name = "example_soft_tissue_alp"
    description = "example plugin: flare when soft tissue is not PD and ALP has not risen"

    def __init__(self, alp_rise_pct: float = 10.0, steepness: float = 0.2):
        self.alp_rise_pct = alp_rise_pct  # store parameters, nothing else
        self.steepness = steepness

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        features = extract_features(batch)  # one row per episode, in batch order
        rise = features["alp_pct_baseline"].fillna(100.0).to_numpy() - 100.0
        margin = self.alp_rise_pct - rise
        margin -= self.alp_rise_pct * features["recist_pd"].to_numpy()
        return expit(self.steepness * margin)

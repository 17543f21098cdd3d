"""A deliberately broken boneflare plugin: its answer depends on the rest of the batch."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from boneflare.classifiers import FlareClassifier
from boneflare.classifiers.features import extract_features


class BatchMedianAlp(FlareClassifier):
    """Calls flare when ALP fell more than the batch's median episode (a batch effect).

    Fails ``check_single_episode``: one episode alone is always at the median.
    """

    name = "broken_batch_median"
    description = "broken on purpose: ALP relative to the batch median"

    def _predict_proba(self, batch):
        pct = extract_features(batch)["alp_pct_baseline"].fillna(100.0).to_numpy()
        centre = np.median(pct) if pct.size else 100.0
        return expit((centre - pct) / 10.0)

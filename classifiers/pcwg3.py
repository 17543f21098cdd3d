"""PCWG3-style confirmation: early worsening is unconfirmed until a later scan says so."""

from __future__ import annotations

import numpy as np

from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import ACTION_DEFER, ObservedBatch

FIRST_REASSESSMENT_DAYS = 91.0
"""PCWG3: worsening at the first reassessment, within 12 weeks (84 days), may be flare
and needs confirmation (Scher 2016); plus the one-week visit window of a CT planned every
6 weeks (docs/model.md, section Visits and missing data), so that the 12-week CT
counts wherever it falls."""
CONFIRM_AFTER_DAYS = 35.0
"""PCWG3 confirms on a scan >= 6 weeks later (Scher 2016): 42 days less the one-week
visit window, so the next planned CT (6 weeks later) can confirm."""
UNCONFIRMED_P_FLARE = 0.5
"""PCWG3 makes no call on unconfirmed worsening: even odds (and, at the default
threshold of 0.5, scored as 'kept on treatment', which is what deferring does)."""


class Pcwg3Confirm(FlareClassifier):
    """PCWG3 2+2 rule adapted to CT: early worsening is unconfirmed until seen again.

    For each episode, let the first worse bone reading be the earliest 'worse' CT in the
    history (this one if there is none before):

    * **unconfirmed**: the first worse reading came within ``window_days`` of the start
      and this CT is less than ``confirm_after_days`` after it. The call is
      ``ACTION_DEFER`` (decide again at the next worse CT), P(flare) =
      ``unconfirmed_p_flare`` (0.5).
    * **confirmed progression**: the first worse reading came within the window and this
      CT, at least ``confirm_after_days`` later, is worse again. Call: stop; P(flare) =
      0.
    * **late worsening**: the first worse reading came after the window; PCWG3 does not
      expect flare then. Call: stop; P(flare) = 0.

    The simulator calls the policy at every worse CT, so a deferred episode is decided
    again at the next worse reading: if the bone is no longer worse there, no episode
    opens and treatment simply goes on, which is how a flare resolves under PCWG3.

    Parameters
    ----------
    window_days : float
        Latest day of a first worse reading that may be flare.
    confirm_after_days : float
        Days after the first worse reading from which a worse CT confirms progression.
    unconfirmed_p_flare : float
        P(flare) given to unconfirmed episodes.

    """

    name = "pcwg3_confirm"
    description = "PCWG3 2+2 rule on CT: early worsening deferred until confirmed >= 6 weeks later"

    def __init__(
        self,
        window_days: float = FIRST_REASSESSMENT_DAYS,
        confirm_after_days: float = CONFIRM_AFTER_DAYS,
        unconfirmed_p_flare: float = UNCONFIRMED_P_FLARE,
    ):
        self.window_days = window_days
        self.confirm_after_days = confirm_after_days
        self.unconfirmed_p_flare = unconfirmed_p_flare

    def unconfirmed(self, batch: ObservedBatch) -> np.ndarray:
        """Return, per episode, whether its worsening is early and not yet confirmed."""
        f = extract_features(batch)
        since_first = f["days_since_first_worse"].to_numpy()
        first_day = f["days_on_treatment"].to_numpy() - since_first
        return (first_day <= self.window_days) & (since_first < self.confirm_after_days)

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        return np.where(self.unconfirmed(batch), float(self.unconfirmed_p_flare), 0.0)

    def _actions(self, batch: ObservedBatch, p_flare: np.ndarray) -> np.ndarray:
        actions = super()._actions(batch, p_flare)
        actions[self.unconfirmed(batch)] = ACTION_DEFER
        return actions

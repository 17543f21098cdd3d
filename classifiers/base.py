"""The classifier contract: scikit-learn conventions, observed histories in, P(flare) out.

A classifier tells a bone flare (label 1) from true progression (label 0) for each
episode of an :class:`~boneflare.simulator.observed.ObservedBatch`. Subclass
:class:`FlareClassifier` and implement the hooks:

Required
    ``_predict_proba(batch) -> ndarray``: P(flare) per episode, in batch order.

Optional (defaults shown)
    ``_fit(batch, y) -> None``: learn from training episodes (default: nothing; rules).
    ``_actions(batch, p) -> ndarray``: the clinical call per episode (default: continue
    when ``p >= threshold``, else stop); a deferring policy returns ``ACTION_DEFER``.

Conventions (as scikit-learn's estimators): ``__init__`` stores its arguments as
attributes of the same name and does nothing else; learned attributes end in ``_``;
``fit`` returns ``self``; :func:`sklearn.base.clone` works. A classifier is also a
decision policy (``name`` + ``decide``), so the simulator can run it in closed loop.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from boneflare.simulator.errors import ClassifierError
from boneflare.simulator.observed import (
    ACTION_CONTINUE,
    ACTION_STOP,
    Decision,
    ObservedBatch,
)


class FlareClassifier(BaseEstimator):
    """Base class of every boneflare classifier (see the module docstring for the hooks).

    Class attributes
    ----------------
    name : str
        Registry name (``boneflare classifiers list``); also the policy name.
    description : str
        One line saying what it does and where the idea comes from.
    learned : bool
        True when it must be fitted on training episodes before predicting.
    threshold : float
        P(flare) at or above which the default call is 'continue treatment'.
    training_patients : int
        Size of the training cohort a benchmark simulates for a learned classifier.
    trains_on_test_scenario : bool
        Train on the scenario it is tested on even when a benchmark names another
        training scenario (the Bayes oracle knows the true model; nothing else should).
    uncapped_training : bool
        Always train on ``training_patients``, whatever cap a benchmark sets
        (``--max-training-patients``): the Bayes oracle is the ceiling, and a ceiling
        trained on a small cohort is none.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    learned: ClassVar[bool] = False
    threshold: ClassVar[float] = 0.5
    training_patients: ClassVar[int] = 20_000
    trains_on_test_scenario: ClassVar[bool] = False
    uncapped_training: ClassVar[bool] = False

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        """Return P(flare) per episode of ``batch`` (required hook)."""

    def _fit(self, batch: ObservedBatch, y: np.ndarray) -> None:
        """Learn from training episodes with labels ``y`` (1 flare, 0 progression)."""

    def _actions(self, batch: ObservedBatch, p_flare: np.ndarray) -> np.ndarray:
        """Return the call per episode: continue at ``p >= threshold``, else stop."""
        return np.where(p_flare >= self.threshold, ACTION_CONTINUE, ACTION_STOP).astype(np.int8)

    # ----------------------------------------------------------------- public API
    def fit(self, batch: ObservedBatch, y: np.ndarray | None = None) -> FlareClassifier:
        """Fit on training episodes (a no-op for rules); return ``self``.

        Parameters
        ----------
        batch : ObservedBatch
            Observed histories of the training episodes.
        y : array of {0, 1}, optional
            1 where the episode is a flare, 0 where it is progression. Required when
            ``learned`` is true.
        """
        batch.check()
        if y is None:
            if self.learned:
                raise ClassifierError(f"{self.name or type(self).__name__} needs labels to fit")
            labels = np.zeros(len(batch), dtype=np.int8)
        else:
            labels = np.asarray(y)
            if labels.shape != (len(batch),):
                raise ClassifierError(
                    f"fit: {labels.shape[0] if labels.ndim else 0} labels for {len(batch)} episodes"
                )
            if not np.isin(labels, (0, 1)).all():
                raise ClassifierError("fit: labels must be 0 (progression) or 1 (flare)")
            labels = labels.astype(np.int8)
        self._fit(batch, labels)
        return self

    def predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        """Return P(flare) per episode, a float array of shape ``(len(batch),)`` in [0, 1]."""
        batch.check()
        p = self._predict_proba(batch)
        return validate_probabilities(p, len(batch), self.name or type(self).__name__)

    def decide(self, batch: ObservedBatch) -> Decision:
        """Return P(flare) and the clinical call per episode (the decision-policy hook)."""
        p = self.predict_proba(batch)
        return Decision(p_flare=p, action=np.asarray(self._actions(batch, p), dtype=np.int8))


def validate_probabilities(p: object, n: int, who: str) -> np.ndarray:
    """Check a classifier's output: shape ``(n,)``, finite, inside [0, 1].

    Raises
    ------
    ClassifierError
        Naming the classifier and what is wrong.
    """
    try:
        arr = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise ClassifierError(f"{who} returned non-numeric probabilities") from None
    if arr.shape != (n,):
        raise ClassifierError(f"{who} returned shape {arr.shape} for {n} episodes")
    if not np.isfinite(arr).all():
        raise ClassifierError(f"{who} returned NaN or infinite probabilities")
    if ((arr < 0) | (arr > 1)).any():
        raise ClassifierError(f"{who} returned probabilities outside [0, 1]")
    return arr

"""Any scikit-learn classifier or pipeline as a FlareClassifier, on the episode features.

The adapter feeds the episode feature table
(:func:`~boneflare.classifiers.features.extract_features`, one row per episode, built
from the observed batch only; columns in :data:`~boneflare.classifiers.features.FEATURES`)
to the estimator, and takes P(flare) from the column of class 1 of its
``predict_proba``::

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    from boneflare.classifiers.adapter import SklearnAdapter

    forest = SklearnAdapter(
        make_pipeline(SimpleImputer(), RandomForestClassifier(n_estimators=200, random_state=0))
    )

The features hold NaN where information is missing (no labs, no earlier scan), so the
estimator must accept NaN or start with an imputer. A training set with one class only
gives a constant P(flare), as for every learned built-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sklearn.base import clone

from boneflare.classifiers.base import ClassifierError
from boneflare.classifiers.features import FEATURES, extract_features
from boneflare.classifiers.learned import SklearnFlareClassifier
from boneflare.simulator.observed import ObservedBatch


class SklearnAdapter(SklearnFlareClassifier):
    """A scikit-learn binary classifier or pipeline on the episode feature table.

    Parameters
    ----------
    estimator : scikit-learn classifier or pipeline
        Unfitted; cloned at every fit. It must have ``fit`` and ``predict_proba``.
    columns : sequence of str, optional
        Feature columns to use (default: all of
        :data:`~boneflare.classifiers.features.FEATURES`).
    n_threads : int or None
        OpenMP threads while fitting and predicting (None: the library's default).

    """

    name = "sklearn"
    description = "a scikit-learn classifier or pipeline on the engineered episode features"

    def __init__(
        self,
        estimator: Any = None,
        columns: Sequence[str] | None = None,
        n_threads: int | None = None,
    ):
        self.estimator = estimator
        self.columns = columns
        self.n_threads = n_threads

    def _make_estimator(self) -> Any:
        if self.estimator is None:
            raise ClassifierError("SklearnAdapter needs an estimator, e.g. a Pipeline")
        if not hasattr(self.estimator, "predict_proba"):
            raise ClassifierError(
                f"{type(self.estimator).__name__} has no predict_proba: use a classifier"
            )
        return clone(self.estimator)

    def _features(self, batch: ObservedBatch) -> pd.DataFrame:
        table = extract_features(batch)
        if self.columns is None:
            return table
        unknown = [c for c in self.columns if c not in FEATURES]
        if unknown:
            raise ClassifierError(f"unknown feature column {unknown[0]!r}; see FEATURES")
        return table.loc[:, list(self.columns)]

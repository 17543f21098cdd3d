"""Learned classifiers: a scikit-learn estimator behind the feature extractor.

:class:`SklearnFlareClassifier` is the base of every learned built-in and a template for
third-party ones: implement ``_make_estimator`` (and, optionally, ``_features``). It
handles what scikit-learn estimators do not: a training set with one class only (or
none), and finding the column of class 1 (flare) in ``predict_proba``.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController

from boneflare.classifiers.base import ClassifierError, FlareClassifier
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import ObservedBatch


def _threads(estimator: object) -> AbstractContextManager:
    """Limit OpenMP to the classifier's ``n_threads`` parameter (None or absent: no limit).

    The built-ins default to one thread. Boosting runs many short parallel regions per
    iteration; benchmarks already run classifiers in parallel processes, and on cores
    shared with other work the regions' barriers cost more than the threads save (the
    Bayes oracle's fit on 150,000 patients took 11.6 s on one thread and 22.1 s on two,
    on two busy cores). Results do not depend on the number of threads.
    """
    n_threads = getattr(estimator, "n_threads", None)
    if n_threads is None:
        return nullcontext()
    return _thread_pools().limit(limits=n_threads, user_api="openmp")


@cache
def _thread_pools() -> ThreadpoolController:
    """Return the native thread pools of this process, found once.

    Searching the loaded libraries costs milliseconds, more than a prediction on a cohort.
    """
    return ThreadpoolController()


def feature_matrix(table: pd.DataFrame, order: str = "C") -> np.ndarray:
    """The feature table as the float64 array the built-in estimators work on.

    An estimator fitted on an array skips, at every prediction, scikit-learn's checks
    of a table's column names and dtypes: on a 1,000-patient cohort the Bayes oracle's
    prediction took 4-5 ms less (of about 50) than on the table, logistic regression's
    about half of its 5.5 ms.

    ``order`` is the memory layout: ``"C"`` (each row's values together, the default)
    or ``"F"`` (each column's). A boosted tree compares one feature of every row at a
    node, so the histogram gradient boosting models predict from columns stored
    together faster (the Bayes oracle on a 1,000-patient cohort: 45.7 ms against 48.1
    alone in a process, median of 120 calls alternated; 43 ms against 61 in a
    benchmark's guarded child, whose caches other processes share, mean of 40 calls),
    with the same comparisons, hence the same probabilities to the last bit. A linear
    model's sums would be taken in another order, so logistic regression keeps rows.
    """
    return np.asarray(table.to_numpy(dtype=np.float64), order=order)


def one_class_probability(y: np.ndarray) -> float:
    """P(flare) after seeing labels ``y`` of one class only: ``(flares + 1/2) / (n + 1)``.

    The Krichevsky-Trofimov (Jeffreys prior) estimate: never exactly 0 or 1, and 0.5
    when there are no labels at all.
    """
    return float((np.sum(y) + 0.5) / (len(y) + 1.0))


class SklearnFlareClassifier(FlareClassifier):
    """Base of learned classifiers wrapping a scikit-learn binary classifier.

    Hooks
    -----
    ``_make_estimator() -> estimator`` (required): a fresh, unfitted scikit-learn
    classifier built from this object's parameters.
    ``_features(batch) -> DataFrame`` (optional): the feature table; default
    :func:`~boneflare.classifiers.features.extract_features`.
    ``_fit_estimator(table, y, batch) -> estimator`` (optional): fit on a training table
    with both classes; default ``_make_estimator().fit(feature_matrix(table), y)``.
    An estimator fitted on the table itself (one with ``feature_names_in_``) is given
    the table at prediction too; one fitted on an array, the table's
    :func:`feature_matrix`.

    Learned attributes: ``estimator_`` (None when the training labels had one class),
    ``constant_`` (the P(flare) used then), ``feature_names_in_``. A parameter
    ``n_threads`` (int, or None for no limit) caps OpenMP threads in fit and predict.
    """

    learned = True
    matrix_order: ClassVar[str] = "C"
    """Layout of the feature matrix given to the fitted estimator to predict
    (:func:`feature_matrix`)."""

    @abstractmethod
    def _make_estimator(self) -> Any:
        """Return a fresh unfitted scikit-learn classifier (required hook)."""

    def _features(self, batch: ObservedBatch) -> pd.DataFrame:
        """Return the feature table of ``batch`` (default: the shared extractor)."""
        return extract_features(batch)

    def _fit(self, batch: ObservedBatch, y: np.ndarray) -> None:
        table = self._features(batch)
        self.feature_names_in_ = np.asarray(table.columns, dtype=object)
        self.constant_ = one_class_probability(y)
        if np.unique(y).size < 2:
            self.estimator_ = None
            return
        with _threads(self):
            self.estimator_ = self._fit_estimator(table, y, batch)

    def _fit_estimator(self, table: pd.DataFrame, y: np.ndarray, batch: ObservedBatch) -> Any:
        """Fit and return the estimator on a two-class training table (optional hook)."""
        return self._make_estimator().fit(feature_matrix(table), y)

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        if not hasattr(self, "constant_"):
            raise ClassifierError(f"{self.name or type(self).__name__} is not fitted: call fit")
        if len(batch) == 0:
            return np.zeros(0)
        if self.estimator_ is None:
            return np.full(len(batch), self.constant_)
        table = self._features(batch)
        named = hasattr(self.estimator_, "feature_names_in_")
        with _threads(self):
            x = table if named else feature_matrix(table, self.matrix_order)
            proba = self.estimator_.predict_proba(x)
        return proba[:, list(self.estimator_.classes_).index(1)]


class Logistic(SklearnFlareClassifier):
    """Logistic regression on the engineered features.

    Pipeline: median imputation with missing-value indicators, standardisation, L2
    logistic regression (scikit-learn). Trained by a benchmark on a separate simulated
    cohort of ``training_patients`` patients.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    max_iter : int
        Iterations of the solver.
    random_state : int
        Seed (the lbfgs solver is deterministic; kept for a uniform interface).
    n_threads : int or None
        OpenMP threads while fitting and predicting (None: the library's default).

    """

    name = "logistic"
    description = (
        "scikit-learn logistic regression on engineered features, trained on a simulated cohort"
    )
    training_patients = 20_000

    def __init__(
        self,
        C: float = 1.0,  # noqa: N803 (scikit-learn's name)
        max_iter: int = 2000,
        random_state: int = 0,
        n_threads: int | None = 1,
    ):
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_threads = n_threads

    def _make_estimator(self) -> Any:
        return make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state),
        )


class GradientBoosting(SklearnFlareClassifier):
    """Histogram gradient boosting on the engineered features (missing values native).

    Parameters
    ----------
    learning_rate : float
        Shrinkage of each tree.
    max_iter : int
        Boosting iterations (early stopping on a validation split above 10,000 episodes).
    max_leaf_nodes : int
        Leaves per tree.
    l2_regularization : float
        L2 penalty on leaf values.
    random_state : int
        Seed of the validation split.
    n_threads : int or None
        OpenMP threads while fitting and predicting (None: the library's default).

    """

    name = "gradient_boosting"
    description = "scikit-learn histogram gradient boosting on the same features, trained likewise"
    training_patients = 20_000
    matrix_order = "F"  # trees read a feature across rows (feature_matrix)

    def __init__(
        self,
        learning_rate: float = 0.1,
        max_iter: int = 200,
        max_leaf_nodes: int = 31,
        l2_regularization: float = 0.0,
        random_state: int = 0,
        n_threads: int | None = 1,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.n_threads = n_threads

    def _make_estimator(self) -> Any:
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        )

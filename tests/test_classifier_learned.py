"""Learned classifiers: trained on one simulated cohort, they beat RECIST on another."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from boneflare.classifiers import registry
from boneflare.classifiers.base import ClassifierError
from boneflare.classifiers.features import FEATURES
from boneflare.classifiers.learned import (
    GradientBoosting,
    Logistic,
    feature_matrix,
    one_class_probability,
)
from boneflare.classifiers.oracle import BayesOracle
from boneflare.simulator.observed import build_batch

TRAIN_PATIENTS = 8_000
"""Training cohort of the AUC tests: small enough for CI, large enough to learn."""
TRAIN_SEED = 101


def _labels(tables, batch) -> np.ndarray:
    truth = tables.episode_truth.set_index("episode_id")["label"].astype(str)
    return (truth.reindex(batch.episode_ids).to_numpy() == "flare").astype(np.int8)


@pytest.fixture(scope="module")
def training(paper):
    from boneflare.simulator import simulate

    t = simulate(paper, TRAIN_PATIENTS, seed=TRAIN_SEED)
    batch = build_batch(t.episodes, t.patients, t.labs, t.scans)
    return batch, _labels(t, batch)


@pytest.fixture(scope="module")
def testing(paper_cohort):
    t = paper_cohort
    batch = build_batch(t.episodes, t.patients, t.labs, t.scans)
    return batch, _labels(t, batch)


@pytest.fixture(scope="module")
def auc_of(training, testing):
    """ROC AUC of each built-in on the default-scenario test cohort, learned ones trained."""
    test, y_test = testing
    out = {}
    for name in registry.names():
        model = registry.create(name)
        model.fit(*training) if model.learned else model.fit(test)
        out[name] = roc_auc_score(y_test, model.predict_proba(test))
    return out


@pytest.mark.parametrize("name", ["logistic", "gradient_boosting", "bayes_oracle"])
def test_learned_classifiers_beat_recist_naive(auc_of, name):
    assert auc_of[name] > auc_of["recist_naive"]


def test_learned_classifiers_are_declared_for_the_harness():
    assert Logistic.learned and GradientBoosting.learned and BayesOracle.learned
    assert BayesOracle.trains_on_test_scenario and not Logistic.trains_on_test_scenario
    assert BayesOracle.training_patients > GradientBoosting.training_patients


def test_learned_classifier_uses_every_feature(training):
    model = Logistic().fit(*training)
    assert list(model.feature_names_in_) == list(FEATURES)
    assert model.estimator_ is not None


def test_predict_before_fit_is_a_clear_error(testing):
    with pytest.raises(ClassifierError, match="not fitted"):
        GradientBoosting().predict_proba(testing[0])


def test_fit_without_labels_is_refused(testing):
    with pytest.raises(ClassifierError, match="needs labels"):
        Logistic().fit(testing[0])


@pytest.mark.parametrize("labels", [[], [0, 0, 0], [1, 1]])
def test_one_class_probability_is_the_kt_estimate(labels):
    y = np.array(labels)
    p = one_class_probability(y)
    assert 0 < p < 1
    assert p == pytest.approx((y.sum() + 0.5) / (y.size + 1))


def test_one_class_training_predicts_its_smoothed_rate(training, testing):
    batch, y = training
    model = GradientBoosting().fit(batch, np.zeros_like(y))
    p = model.predict_proba(testing[0])
    assert model.estimator_ is None
    np.testing.assert_array_equal(p, one_class_probability(np.zeros_like(y)))


def test_built_in_estimators_are_fitted_on_the_feature_array(training, testing):
    """An estimator fitted on an array skips scikit-learn's checks of a table at each call."""
    batch, y = training
    model = Logistic().fit(batch, y)
    assert not hasattr(model.estimator_, "feature_names_in_")
    table = model._features(testing[0])
    np.testing.assert_array_equal(
        model.predict_proba(testing[0]),
        model.estimator_.predict_proba(feature_matrix(table))[:, 1],
    )


@pytest.mark.parametrize("cls", [GradientBoosting, BayesOracle])
def test_trees_predict_from_columns_the_probabilities_of_rows(cls, training, testing):
    """Boosted trees get the features column by column: the same probabilities, bit for bit."""
    batch, y = training
    model = cls().fit(batch, y)
    assert model.matrix_order == "F"
    table = model._features(testing[0])
    assert feature_matrix(table, "F").flags.f_contiguous
    np.testing.assert_array_equal(
        model.predict_proba(testing[0]),
        model.estimator_.predict_proba(feature_matrix(table, "C"))[:, 1],
    )


class _FittedOnTheTable(Logistic):
    """A third-party subclass whose hook fits the estimator on the feature table itself."""

    def _fit_estimator(self, table, y, batch):
        return self._make_estimator().fit(table, y)


def test_an_estimator_fitted_on_the_table_is_given_the_table(training, testing):
    batch, y = training
    model = _FittedOnTheTable().fit(batch, y)
    assert list(model.estimator_.feature_names_in_) == list(FEATURES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an array would warn: "X does not have valid feature names"
        p = model.predict_proba(testing[0])
    expected = model.estimator_.predict_proba(model._features(testing[0]))[:, 1]
    np.testing.assert_array_equal(p, expected)

"""Test the tests: a zoo of deliberately broken classifiers, each caught for its reason.

Every member breaks one rule of the contract the way real code does (a parameter
counted up in predict, a batch median, an unseeded generator...). The suite must fail
the check named for that rule, and (where the defect touches nothing else) only it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from boneflare.benchmarks.conformance import ConformanceError, check_classifier
from boneflare.classifiers.base import FlareClassifier, validate_probabilities
from boneflare.classifiers.features import extract_features
from boneflare.simulator.observed import Decision


def _alp_pct(batch) -> np.ndarray:
    return extract_features(batch)["alp_pct_baseline"].fillna(100.0).to_numpy()


class GoodRule(FlareClassifier):
    """The honest ancestor of the zoo: falling ALP is flare."""

    name = "good_rule"
    description = "test rule: falling ALP is flare"

    def __init__(self, scale: float = 10.0):
        self.scale = scale

    def _predict_proba(self, batch):
        return expit((100.0 - _alp_pct(batch)) / self.scale)


class Nameless(GoodRule):
    name = ""


class MultiLineDescription(GoodRule):
    name = "multi_line_description"
    description = "first line\nsecond line"


class TransformsParameter(GoodRule):
    name = "transforms_parameter"

    def __init__(self, scale: float = 10.0):
        self.scale = scale * 2  # should be done in fit or predict, not __init__


class BusyInit(GoodRule):
    name = "busy_init"

    def __init__(self, scale: float = 10.0):
        self.scale = scale
        self.cache_ = {}  # learned state set before fit


class FitReturnsNone(GoodRule):
    name = "fit_returns_none"

    def fit(self, batch, y=None):
        super().fit(batch, y)


class WrongShape(GoodRule):
    name = "wrong_shape"

    def _predict_proba(self, batch):
        return np.append(super()._predict_proba(batch), 0.5)


class RawScore(GoodRule):
    name = "raw_score"

    def _predict_proba(self, batch):
        return (100.0 - _alp_pct(batch)) / self.scale  # a score, not a probability


class NanWithoutLabs(GoodRule):
    name = "nan_without_labs"

    def _predict_proba(self, batch):
        pct = extract_features(batch)["alp_pct_baseline"].to_numpy()
        return expit((100.0 - pct) / self.scale)


class UnseededFit(GoodRule):
    name = "unseeded_fit"
    learned = True

    def _fit(self, batch, y):
        self.offset_ = np.random.default_rng().normal(0.0, 1.0)

    def _predict_proba(self, batch):
        return expit((100.0 - _alp_pct(batch)) / self.scale + self.offset_)


class GlobalRandomPredict(GoodRule):
    name = "global_random_predict"

    def _predict_proba(self, batch):
        return np.clip(super()._predict_proba(batch) + 0.01 * np.random.random(len(batch)), 0, 1)  # noqa: NPY002


class CountsCalls(GoodRule):
    name = "counts_calls"

    def __init__(self, scale: float = 10.0, calls: int = 0):
        self.scale = scale
        self.calls = calls

    def _predict_proba(self, batch):
        self.calls += 1
        return super()._predict_proba(batch)


class RoundsInputInPlace(GoodRule):
    name = "rounds_input_in_place"

    def _predict_proba(self, batch):
        batch.labs["value"] = batch.labs["value"].round(-1)
        return super()._predict_proba(batch)


class RemembersLastBatch(GoodRule):
    name = "remembers_last_batch"

    def _predict_proba(self, batch):
        self.last_batch_size_ = len(batch)
        return super()._predict_proba(batch)


class AssumesLabOrder(GoodRule):
    name = "assumes_lab_order"

    def _predict_proba(self, batch):
        alp = batch.labs[batch.labs["analyte"].astype(str) == "alp"]
        last = alp.groupby("episode_id", sort=True)["value"].last().to_numpy()
        first = alp.groupby("episode_id", sort=True)["value"].first().to_numpy()
        return expit((100.0 - 100.0 * last / first) / self.scale)  # rows by id, not batch order


class BatchMedian(GoodRule):
    name = "batch_median"

    def _predict_proba(self, batch):
        pct = _alp_pct(batch)
        centre = np.median(pct) if pct.size else 100.0
        return expit((centre - pct) / self.scale)


class CrashesOnEmpty(GoodRule):
    name = "crashes_on_empty"

    def _predict_proba(self, batch):
        rows = [np.array([p]) for p in super()._predict_proba(batch)]
        return np.vstack(rows)[:, 0]


class IgnoresDecisionDay(GoodRule):
    name = "ignores_decision_day"

    def fit(self, batch, y=None):
        return self

    def predict_proba(self, batch):
        return validate_probabilities(self._predict_proba(batch), len(batch), self.name)


class NeedsBothClasses(GoodRule):
    name = "needs_both_classes"
    learned = True

    def _fit(self, batch, y):
        self.model_ = LogisticRegression().fit(_alp_pct(batch)[:, None], y)

    def _predict_proba(self, batch):
        if len(batch) == 0:
            return np.zeros(0)
        return self.model_.predict_proba(_alp_pct(batch)[:, None])[:, 1]


class InventsActions(GoodRule):
    name = "invents_actions"

    def _actions(self, batch, p_flare):
        return np.full(len(batch), 7, dtype=np.int8)


class DecideDisagrees(GoodRule):
    name = "decide_disagrees"

    def decide(self, batch):
        decision = super().decide(batch)
        return Decision(1.0 - decision.p_flare, decision.action)


ZOO = [
    (Nameless, {"check_metadata"}),
    (MultiLineDescription, {"check_metadata"}),
    (TransformsParameter, {"check_clone"}),
    (BusyInit, {"check_clone"}),
    (FitReturnsNone, {"check_fit_returns_self"}),
    (WrongShape, None),
    (RawScore, None),
    (NanWithoutLabs, {"check_missing_labs"}),
    (UnseededFit, {"check_deterministic", "check_clone"}),
    (GlobalRandomPredict, None),
    (CountsCalls, {"check_no_mutation"}),
    (RoundsInputInPlace, {"check_no_mutation"}),
    (RemembersLastBatch, {"check_no_mutation"}),
    (AssumesLabOrder, None),
    (BatchMedian, {"check_single_episode"}),
    (CrashesOnEmpty, {"check_empty_batch"}),
    (IgnoresDecisionDay, {"check_refuses_future_data"}),
    (NeedsBothClasses, {"check_fit_one_class"}),
    (InventsActions, {"check_decide"}),
    (DecideDisagrees, {"check_decide"}),
]
"""Each broken classifier, with exactly the checks it must fail (None: see REASON)."""

REASON = {
    WrongShape: "check_output",
    RawScore: "check_output",
    GlobalRandomPredict: "check_deterministic",
    AssumesLabOrder: "check_order_invariance",
}
"""Where a defect also breaks other checks, the one it must fail at least."""


def test_the_honest_ancestor_passes():
    assert all(r.passed for r in check_classifier(GoodRule()))


@pytest.mark.parametrize(("cls", "exactly"), ZOO, ids=[c.__name__ for c, _ in ZOO])
def test_the_suite_catches_each_broken_classifier(cls, exactly):
    results = check_classifier(cls(), raise_errors=False)
    failed = {r.check for r in results if not r.passed}
    if exactly is not None:
        assert failed == exactly
    else:
        assert REASON[cls] in failed
    assert all(r.message for r in results if not r.passed)


def test_a_failure_raises_naming_the_classifier_and_the_check():
    from boneflare.benchmarks.conformance import check_single_episode

    with pytest.raises(ConformanceError, match="'batch_median' failed check_single_episode: "):
        check_classifier(BatchMedian(), checks=[check_single_episode])

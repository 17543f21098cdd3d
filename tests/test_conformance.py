"""Every registered built-in passes the conformance suite; the suite's public API works."""

from __future__ import annotations

import pytest
from helpers import BUILT_IN_CLASSIFIERS

from boneflare.benchmarks.conformance import (
    ConformanceError,
    all_checks,
    check_classifier,
    parametrize_with_checks,
    run_check,
    sample_data,
)
from boneflare.classifiers import registry

BUILT_INS = [registry.create(name) for name in registry.names()]


@parametrize_with_checks(BUILT_INS)
def test_built_in_classifiers_conform(estimator, check):
    check(estimator)


def test_the_nine_built_ins_are_registered():
    expected = set(BUILT_IN_CLASSIFIERS)
    assert expected <= set(registry.names())
    for name in expected:
        cls = registry.get(name)
        assert cls.name == name and cls.description


def test_the_suite_covers_the_contract():
    names = {c.__name__ for c in all_checks()}
    assert names == {
        "check_metadata",
        "check_clone",
        "check_fit_returns_self",
        "check_output",
        "check_decide",
        "check_deterministic",
        "check_no_mutation",
        "check_order_invariance",
        "check_single_episode",
        "check_empty_batch",
        "check_refuses_future_data",
        "check_fit_one_class",
        "check_missing_labs",
    }
    assert all(c.__doc__ for c in all_checks())


def test_parametrize_ids_name_classifier_and_check():
    mark = parametrize_with_checks([registry.create("timing_window")])
    assert mark.kwargs["ids"][0] == "timing_window-check_metadata"
    assert len(mark.kwargs["ids"]) == len(all_checks())


def test_check_classifier_returns_one_result_per_check():
    results = check_classifier(registry.create("recist_naive"))
    assert [r.check for r in results] == [c.__name__ for c in all_checks()]
    assert all(r.passed and r.classifier == "recist_naive" for r in results)


def test_a_registered_name_must_match_the_class_name():
    estimator = registry.create("alp_trend")
    result = run_check(all_checks()[0], estimator, "another_name")
    assert not result.passed and "another_name" in result.message
    with pytest.raises(ConformanceError, match="check_metadata"):
        check_classifier(estimator, "another_name", checks=all_checks()[:1])


def test_sample_data_is_built_once_with_both_labels():
    data = sample_data()
    assert sample_data() is data
    for y in (data.y_train, data.y_test):
        assert 0 < y.mean() < 1
    assert len(data.train) > 100 and len(data.test) > 100

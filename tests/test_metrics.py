"""Tests for boneflare.benchmarks.metrics and boneflare.benchmarks.aggregate."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    log_loss,
    recall_score,
    roc_auc_score,
)

from boneflare.benchmarks.aggregate import (
    leaderboard,
    oracle_warnings,
    paired_differences,
    summarise,
)
from boneflare.benchmarks.metrics import METRIC_DIRECTIONS, _average_ranks, classification_metrics

METRIC_KEYS = [
    "roc_auc",
    "sensitivity_flare",
    "specificity",
    "balanced_accuracy",
    "brier",
    "log_loss",
    "n_episodes",
    "n_flare",
]
CONSEQUENCE_DIRECTIONS = {
    "flare_patients_stopped_share": "lower",
    "effective_days_lost": "lower",
    "progression_delay_days": "lower",
    "episodes_deferred_share": "none",
    "fit_seconds": "lower",
    "predict_seconds": "lower",
}
TOL = 1e-12

# Probabilities: a coarse grid (forces ties, exact 0, 1 and the 0.5 threshold),
# tiny and near-one values (exercise log-loss clipping) and arbitrary floats.
probabilities = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
    st.sampled_from([5e-324, 1e-300, 1e-17, 1.0 - 1e-16, np.nextafter(1.0, 0.0)]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def labelled_predictions(draw: st.DrawFn, min_size: int = 1, max_size: int = 40):
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=int)
    p = np.array(draw(st.lists(probabilities, min_size=n, max_size=n)), dtype=np.float64)
    return y, p


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# --------------------------------------------------------------------------------------
# classification_metrics: agreement with scikit-learn
# --------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    data=labelled_predictions(),
    threshold=st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0)),
)
def test_metrics_agree_with_sklearn(data: tuple[np.ndarray, np.ndarray], threshold: float) -> None:
    y, p = data
    m = classification_metrics(y, p, threshold=threshold)
    assert list(m) == METRIC_KEYS
    assert all(isinstance(v, float) for v in m.values())

    has_flare = bool((y == 1).any())
    has_prog = bool((y == 0).any())
    y_pred = (p >= threshold).astype(int)

    # Always defined for >= 1 episode.
    assert close(m["brier"], brier_score_loss(y, p, pos_label=1))
    assert close(m["log_loss"], log_loss(y, p, labels=[0, 1]))
    assert m["n_episodes"] == len(y)
    assert m["n_flare"] == int(y.sum())

    # Recall of each class; sklearn returns NaN (zero_division) when undefined.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec_ref, sens_ref = recall_score(
            y, y_pred, labels=[0, 1], average=None, zero_division=np.nan
        )
    assert math.isnan(m["sensitivity_flare"]) == (not has_flare) == math.isnan(sens_ref)
    assert math.isnan(m["specificity"]) == (not has_prog) == math.isnan(spec_ref)
    if has_flare:
        assert close(m["sensitivity_flare"], sens_ref)
        assert close(m["sensitivity_flare"], recall_score(y, y_pred, pos_label=1))
    if has_prog:
        assert close(m["specificity"], spec_ref)

    if has_flare and has_prog:
        assert close(m["roc_auc"], roc_auc_score(y, p))
        assert close(m["balanced_accuracy"], balanced_accuracy_score(y, y_pred))
    else:
        # sklearn raises (older versions) or warns and returns NaN (>= 1.6) for
        # roc_auc_score; balanced accuracy over a single class is undefined.
        assert math.isnan(m["roc_auc"])
        assert math.isnan(m["balanced_accuracy"])


@settings(max_examples=200, deadline=None)
@given(k=st.lists(st.integers(0, 8), max_size=60), scale=st.sampled_from([1.0, 8.0, 3.0]))
def test_average_ranks_equal_scipy_rankdata(k: list[int], scale: float) -> None:
    x = np.array(k, dtype=np.float64) / scale  # few distinct values: ties abound
    assert np.array_equal(_average_ranks(x), rankdata(x, method="average"))


@settings(max_examples=100, deadline=None)
@given(y=st.lists(st.integers(0, 1), min_size=2, max_size=40), data=st.data())
def test_auc_is_symmetric_under_label_and_score_flip(y: list[int], data: st.DataObject) -> None:
    # Dyadic grid k/64 so that 1 - p is exact (no two scores merge) and ties abound.
    k = data.draw(st.lists(st.integers(0, 64), min_size=len(y), max_size=len(y)))
    y_arr = np.array(y)
    p = np.array(k, dtype=np.float64) / 64.0
    auc = classification_metrics(y_arr, p)["roc_auc"]
    flipped = classification_metrics(1 - y_arr, 1.0 - p)["roc_auc"]
    if np.all(y_arr == y_arr[0]):
        assert math.isnan(auc) and math.isnan(flipped)
    else:
        assert 0.0 <= auc <= 1.0
        assert close(auc, flipped)


def test_metric_values_match_hand_computation() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    m = classification_metrics(y, p)
    # Pairs (pos, neg): (0.35>0.1), (0.35<0.4), (0.8>0.1), (0.8>0.4) -> 3/4.
    assert m["roc_auc"] == pytest.approx(0.75, abs=TOL)
    assert m["sensitivity_flare"] == pytest.approx(0.5, abs=TOL)
    assert m["specificity"] == pytest.approx(1.0, abs=TOL)
    assert m["balanced_accuracy"] == pytest.approx(0.75, abs=TOL)
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4, abs=TOL)
    expected_ll = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert m["log_loss"] == pytest.approx(expected_ll, abs=TOL)
    assert m["n_episodes"] == 4.0
    assert m["n_flare"] == 2.0


def test_ties_count_half_and_threshold_is_inclusive() -> None:
    m = classification_metrics([0, 1], [0.5, 0.5])
    assert m["roc_auc"] == 0.5
    assert m["sensitivity_flare"] == 1.0  # 0.5 >= 0.5 is called flare
    assert m["specificity"] == 0.0


def test_log_loss_clips_with_float64_eps() -> None:
    eps = np.finfo(np.float64).eps
    m = classification_metrics([1, 0], [0.0, 1.0])
    assert m["log_loss"] == pytest.approx(-math.log(eps), rel=TOL)
    assert math.isfinite(m["log_loss"])
    assert m["brier"] == 1.0
    assert m["roc_auc"] == 0.0


@pytest.mark.parametrize(
    ("y", "p", "undefined", "defined"),
    [
        (
            [0, 0, 0],
            [0.2, 0.7, 1.0],
            {"roc_auc", "sensitivity_flare", "balanced_accuracy"},
            {"specificity", "brier", "log_loss"},
        ),
        (
            [1, 1],
            [0.2, 0.7],
            {"roc_auc", "specificity", "balanced_accuracy"},
            {"sensitivity_flare", "brier", "log_loss"},
        ),
        (
            [],
            [],
            {
                "roc_auc",
                "sensitivity_flare",
                "specificity",
                "balanced_accuracy",
                "brier",
                "log_loss",
            },
            set(),
        ),
    ],
)
def test_undefined_metrics_are_nan(
    y: list[int], p: list[float], undefined: set[str], defined: set[str]
) -> None:
    m = classification_metrics(y, p)
    for key in undefined:
        assert math.isnan(m[key]), key
    for key in defined:
        assert math.isfinite(m[key]), key
    assert m["n_episodes"] == len(y)
    assert m["n_flare"] == sum(y)


def test_accepts_bool_and_float_labels() -> None:
    a = classification_metrics(np.array([True, False, True]), [0.9, 0.2, 0.4])
    b = classification_metrics(np.array([1.0, 0.0, 1.0]), [0.9, 0.2, 0.4])
    c = classification_metrics([1, 0, 1], [0.9, 0.2, 0.4])
    assert a == b == c


@pytest.mark.parametrize(
    ("y", "p", "threshold", "match"),
    [
        ([0, 1], [0.5], 0.5, "length"),
        ([0, 1], [0.5, 1.2], 0.5, r"\[0, 1\]"),
        ([0, 1], [-0.1, 0.5], 0.5, r"\[0, 1\]"),
        ([0, 1], [np.nan, 0.5], 0.5, "NaN"),
        ([0, 1], [np.inf, 0.5], 0.5, "NaN or infinite"),
        ([0, 2], [0.1, 0.5], 0.5, "only 0 and 1"),
        ([-1, 1], [0.1, 0.5], 0.5, "only 0 and 1"),
        ([0.0, np.nan], [0.1, 0.5], 0.5, "only 0 and 1"),
        ([0.5, 1.0], [0.1, 0.5], 0.5, "only 0 and 1"),
        (["a", "b"], [0.1, 0.5], 0.5, "numeric"),
        ([0, 1], ["x", "y"], 0.5, "numeric"),
        ([[0, 1]], [[0.1, 0.5]], 0.5, "1-D"),
        ([0, 1], [[0.1, 0.5]], 0.5, "1-D"),
        ([0, 1], [0.1, 0.5], 1.5, "threshold"),
        ([0, 1], [0.1, 0.5], float("nan"), "threshold"),
        ([0, 1], [0.1, 0.5], "0.5", "threshold"),
    ],
)
def test_invalid_input_raises(y: object, p: object, threshold: object, match: str) -> None:
    with pytest.raises(ValueError, match=match) as excinfo:
        classification_metrics(y, p, threshold=threshold)  # type: ignore[arg-type]
    assert "\n" not in str(excinfo.value)


def test_metric_directions_cover_all_metrics() -> None:
    for key in METRIC_KEYS:
        assert METRIC_DIRECTIONS[key] in {"higher", "lower", "none"}
    for key, direction in CONSEQUENCE_DIRECTIONS.items():
        assert METRIC_DIRECTIONS[key] == direction
    assert METRIC_DIRECTIONS["roc_auc"] == "higher"
    assert METRIC_DIRECTIONS["balanced_accuracy"] == "higher"
    assert METRIC_DIRECTIONS["brier"] == "lower"
    assert METRIC_DIRECTIONS["log_loss"] == "lower"


# --------------------------------------------------------------------------------------
# aggregation
# --------------------------------------------------------------------------------------

T975_DF1 = 12.706204736174694  # Student t 0.975 quantile, 1 df
T975_DF2 = 4.302652729749462  # Student t 0.975 quantile, 2 df


def long_table(rows: list[tuple[str, str, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["scenario", "classifier", "replicate", "metric", "value"])


def one_row(frame: pd.DataFrame, **keys: str) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for col, val in keys.items():
        mask &= (frame[col] == val).to_numpy()
    assert mask.sum() == 1, keys
    return frame.loc[mask].iloc[0]


@pytest.fixture
def results() -> pd.DataFrame:
    nan = float("nan")
    return long_table(
        [
            # reference
            ("base", "recist_naive", 1, "roc_auc", 0.5),
            ("base", "recist_naive", 2, "roc_auc", 0.6),
            ("base", "recist_naive", 3, "roc_auc", 0.7),
            ("base", "recist_naive", 1, "brier", 0.30),
            ("base", "recist_naive", 2, "brier", 0.30),
            ("base", "recist_naive", 3, "brier", nan),
            # model A: one missing replicate for AUC
            ("base", "model_a", 1, "roc_auc", 1.0),
            ("base", "model_a", 2, "roc_auc", 2.0),
            ("base", "model_a", 3, "roc_auc", 3.0),
            ("base", "model_a", 4, "roc_auc", nan),
            ("base", "model_a", 1, "brier", 0.10),
            ("base", "model_a", 2, "brier", 0.20),
            ("base", "model_a", 3, "brier", 0.40),
            # model B: a single non-missing value
            ("base", "model_b", 1, "roc_auc", 0.9),
            ("base", "model_b", 2, "roc_auc", nan),
            # model C: nothing defined
            ("base", "model_c", 1, "roc_auc", nan),
            ("base", "model_c", 2, "roc_auc", nan),
        ]
    )


def test_summarise_hand_computed(results: pd.DataFrame) -> None:
    s = summarise(results)
    assert list(s.columns) == [
        "scenario",
        "classifier",
        "metric",
        "n",
        "n_missing",
        "mean",
        "sd",
        "mcse",
        "ci_low",
        "ci_high",
    ]
    assert len(s) == 6

    # values 1, 2, 3 and one NaN: mean 2, sd 1, mcse 1/sqrt(3)
    a = one_row(s, classifier="model_a", metric="roc_auc")
    assert (a["n"], a["n_missing"]) == (3, 1)
    assert a["mean"] == pytest.approx(2.0, abs=TOL)
    assert a["sd"] == pytest.approx(1.0, abs=TOL)
    assert a["mcse"] == pytest.approx(1.0 / math.sqrt(3.0), abs=TOL)
    half_width = T975_DF2 / math.sqrt(3.0)
    assert a["ci_low"] == pytest.approx(2.0 - half_width, abs=1e-9)
    assert a["ci_high"] == pytest.approx(2.0 + half_width, abs=1e-9)

    # NaN replicate excluded, not read as 0: mean of 0.30, 0.30 is 0.30, sd 0
    r = one_row(s, classifier="recist_naive", metric="brier")
    assert (r["n"], r["n_missing"]) == (2, 1)
    assert r["mean"] == pytest.approx(0.30, abs=TOL)
    assert r["sd"] == pytest.approx(0.0, abs=TOL)
    assert r["ci_low"] == pytest.approx(0.30, abs=TOL)
    assert r["ci_high"] == pytest.approx(0.30, abs=TOL)

    # a single value: mean defined, spread and interval undefined
    b = one_row(s, classifier="model_b", metric="roc_auc")
    assert (b["n"], b["n_missing"]) == (1, 1)
    assert b["mean"] == pytest.approx(0.9, abs=TOL)
    assert all(math.isnan(b[c]) for c in ["sd", "mcse", "ci_low", "ci_high"])

    # nothing defined: everything NaN, n = 0
    c = one_row(s, classifier="model_c", metric="roc_auc")
    assert (c["n"], c["n_missing"]) == (0, 2)
    assert all(math.isnan(c[k]) for k in ["mean", "sd", "mcse", "ci_low", "ci_high"])


def test_paired_differences_hand_computed(results: pd.DataFrame) -> None:
    d = paired_differences(results, reference="recist_naive")
    assert set(d["classifier"]) == {"model_a", "model_b", "model_c"}
    assert (d["reference"] == "recist_naive").all()
    for col in ["n", "n_missing", "mean", "sd", "mcse", "ci_low", "ci_high"]:
        assert col in d.columns

    # AUC diffs a - ref over replicates 1..3: 0.5, 1.4, 2.3 (replicate 4 missing)
    a = one_row(d, classifier="model_a", metric="roc_auc")
    assert (a["n"], a["n_missing"]) == (3, 1)
    assert a["mean"] == pytest.approx(1.4, abs=TOL)
    assert a["sd"] == pytest.approx(0.9, abs=TOL)
    assert a["mcse"] == pytest.approx(0.9 / math.sqrt(3.0), abs=TOL)
    assert a["ci_low"] == pytest.approx(1.4 - T975_DF2 * 0.9 / math.sqrt(3.0), abs=1e-9)
    assert a["ci_high"] == pytest.approx(1.4 + T975_DF2 * 0.9 / math.sqrt(3.0), abs=1e-9)

    # Brier diffs: -0.2, -0.1; replicate 3 has no reference value
    ab = one_row(d, classifier="model_a", metric="brier")
    assert (ab["n"], ab["n_missing"]) == (2, 1)
    assert ab["mean"] == pytest.approx(-0.15, abs=TOL)
    assert ab["sd"] == pytest.approx(0.05 * math.sqrt(2.0), abs=TOL)
    assert ab["mcse"] == pytest.approx(0.05, abs=TOL)
    assert ab["ci_low"] == pytest.approx(-0.15 - T975_DF1 * 0.05, abs=1e-9)
    assert ab["ci_high"] == pytest.approx(-0.15 + T975_DF1 * 0.05, abs=1e-9)

    # Model B: one pair (0.9 - 0.5); replicate 2 missing for B; replicate 3 only for ref
    b = one_row(d, classifier="model_b", metric="roc_auc")
    assert (b["n"], b["n_missing"]) == (1, 2)
    assert b["mean"] == pytest.approx(0.4, abs=TOL)
    assert math.isnan(b["mcse"]) and math.isnan(b["ci_low"])

    c = one_row(d, classifier="model_c", metric="roc_auc")
    assert (c["n"], c["n_missing"]) == (0, 3)
    assert math.isnan(c["mean"])


def test_paired_differences_equal_mean_of_differences_not_difference_of_means(
    results: pd.DataFrame,
) -> None:
    # model_a's AUC mean is 2.0 over replicates 1..3, reference's 0.6: the paired
    # mean (1.4) only uses replicates where both exist, which here coincide.
    d = paired_differences(results)
    s = summarise(results)
    a = one_row(d, classifier="model_a", metric="roc_auc")["mean"]
    ma = one_row(s, classifier="model_a", metric="roc_auc")["mean"]
    mr = one_row(s, classifier="recist_naive", metric="roc_auc")["mean"]
    assert a == pytest.approx(ma - mr, abs=TOL)
    # For Brier they differ because replicate 3 is unpaired.
    ab = one_row(d, classifier="model_a", metric="brier")["mean"]
    mab = one_row(s, classifier="model_a", metric="brier")["mean"]
    mrb = one_row(s, classifier="recist_naive", metric="brier")["mean"]
    assert ab != pytest.approx(mab - mrb)


def test_paired_differences_missing_reference_raises(results: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="not_there"):
        paired_differences(results, reference="not_there")


def test_aggregate_rejects_bad_tables(results: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="value"):
        summarise(results.drop(columns="value"))
    with pytest.raises(ValueError, match="repeated"):
        summarise(pd.concat([results, results.iloc[[0]]], ignore_index=True))
    with pytest.raises(ValueError, match="repeated"):
        paired_differences(pd.concat([results, results.iloc[[0]]], ignore_index=True))


def test_leaderboard_order_higher_and_lower_is_better() -> None:
    rows = []
    for rep, (a_auc, b_auc, c_auc) in enumerate([(0.70, 0.80, 0.60), (0.72, 0.82, 0.62)]):
        rows += [
            ("s1", "a", rep, "roc_auc", a_auc),
            ("s1", "b", rep, "roc_auc", b_auc),
            ("s1", "c", rep, "roc_auc", c_auc),
            ("s1", "d", rep, "roc_auc", float("nan")),
        ]
    for rep, (a_b, b_b, c_b, d_b) in enumerate(
        [(0.20, 0.25, 0.10, 0.30), (0.22, 0.27, 0.12, 0.32)]
    ):
        rows += [
            ("s1", "a", rep, "brier", a_b),
            ("s1", "b", rep, "brier", b_b),
            ("s1", "c", rep, "brier", c_b),
            ("s1", "d", rep, "brier", d_b),
        ]
    rows += [("s0", "a", 0, "roc_auc", 0.5), ("s0", "b", 0, "roc_auc", 0.9)]
    summary = summarise(long_table(rows))

    by_auc = leaderboard(summary, metric="roc_auc")
    assert list(by_auc.columns) == [
        "scenario",
        "classifier",
        "roc_auc_mean",
        "roc_auc_mcse",
        "brier_mean",
        "brier_mcse",
    ]
    assert list(zip(by_auc["scenario"], by_auc["classifier"], strict=True)) == [
        ("s0", "b"),
        ("s0", "a"),
        ("s1", "b"),
        ("s1", "a"),
        ("s1", "c"),
        ("s1", "d"),  # NaN last
    ]
    s1 = by_auc[by_auc["scenario"] == "s1"].set_index("classifier")
    assert s1.loc["b", "roc_auc_mean"] == pytest.approx(0.81, abs=TOL)
    assert s1.loc["b", "roc_auc_mcse"] == pytest.approx(0.01, abs=TOL)
    assert s1.loc["a", "brier_mean"] == pytest.approx(0.21, abs=TOL)
    assert math.isnan(s1.loc["d", "roc_auc_mean"])

    by_brier = leaderboard(summary, metric="brier")
    assert list(by_brier.columns[2:4]) == ["brier_mean", "brier_mcse"]
    s1_order = by_brier.loc[by_brier["scenario"] == "s1", "classifier"].tolist()
    assert s1_order == ["c", "a", "b", "d"]  # lower Brier is better
    s0_order = by_brier.loc[by_brier["scenario"] == "s0", "classifier"].tolist()
    assert s0_order == ["a", "b"]  # no Brier in s0: both NaN, tie broken by name


def test_leaderboard_rejects_unrankable_metrics(results: pd.DataFrame) -> None:
    summary = summarise(results)
    with pytest.raises(ValueError, match="not found"):
        leaderboard(summary, metric="log_loss")
    with pytest.raises(ValueError, match="neutral"):
        leaderboard(summary, metric="episodes_deferred_share")
    with pytest.raises(ValueError, match="no known direction"):
        leaderboard(summary, metric="made_up")


# --------------------------------------------------------------------------------------
# tasks: every task is aggregated on its own, the headline task first
# --------------------------------------------------------------------------------------


def with_task(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    return frame.assign(task=task)[["scenario", "task", *frame.columns[1:]]]


def test_each_task_is_summarised_on_its_own(results: pd.DataFrame) -> None:
    shifted = results.assign(value=results["value"] + 1.0)
    both = pd.concat([with_task(shifted, "all_episodes"), with_task(results, "decision_point")])
    summary = summarise(both)
    # the headline task first, whatever the input order
    assert summary["task"].astype(str).iloc[0] == "decision_point"
    plain = summarise(results)
    for task, offset in (("decision_point", 0.0), ("all_episodes", 1.0)):
        part = summary[summary["task"] == task].drop(columns="task").reset_index(drop=True)
        expected = plain.copy()
        for column in ("mean", "ci_low", "ci_high"):
            expected[column] = expected[column] + offset
        pd.testing.assert_frame_equal(part, expected)
    a = one_row(summary, task="decision_point", classifier="model_a", metric="roc_auc")
    assert a["mean"] == pytest.approx(2.0)


def test_paired_differences_and_leaderboard_pair_within_task(results: pd.DataFrame) -> None:
    shifted = results.assign(value=results["value"] * 2.0)
    both = pd.concat([with_task(results, "decision_point"), with_task(shifted, "all_episodes")])
    diffs = paired_differences(both, "recist_naive")
    assert list(diffs.columns[:4]) == ["scenario", "task", "classifier", "reference"]
    dp = one_row(diffs, task="decision_point", classifier="model_a", metric="roc_auc")
    every = one_row(diffs, task="all_episodes", classifier="model_a", metric="roc_auc")
    assert dp["mean"] == pytest.approx(1.4)  # (0.5 + 1.4 + 2.3) / 3
    assert every["mean"] == pytest.approx(2 * dp["mean"])
    board = leaderboard(summarise(both), "roc_auc")
    assert board["task"].astype(str).tolist()[:1] == ["decision_point"]
    assert list(board["task"].astype(str).unique()) == ["decision_point", "all_episodes"]


def test_a_classifier_beating_the_oracle_is_flagged_per_task() -> None:
    rows = []
    for replicate in range(10):
        cohort, noise = 0.01 * (replicate % 3), 0.001 * (-1) ** replicate  # mean noise 0
        for task, gap in (("decision_point", 0.02), ("all_episodes", 0.0)):
            rows.append(("s", task, "bayes_oracle", replicate, "roc_auc", 0.80 + cohort))
            rows.append(("s", task, "good", replicate, "roc_auc", 0.80 + cohort + gap + noise))
            rows.append(("s", task, "weak", replicate, "roc_auc", 0.70 + cohort))
    results = pd.DataFrame(
        rows, columns=["scenario", "task", "classifier", "replicate", "metric", "value"]
    )
    flagged = oracle_warnings(results)
    assert flagged[["task", "classifier"]].astype(str).values.tolist() == [
        ["decision_point", "good"]
    ]
    assert flagged["mean"].iloc[0] == pytest.approx(0.02)
    without_oracle = results[results["classifier"] != "bayes_oracle"]
    assert oracle_warnings(without_oracle).empty

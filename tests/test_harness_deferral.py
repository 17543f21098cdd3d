"""Deferral at the decision point: the rewritten calls and the trade-off, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from boneflare.benchmarks.aggregate import deferral_tradeoff, summarise
from boneflare.benchmarks.harness.consequences import CohortOutcomes
from boneflare.benchmarks.harness.deferral import (
    DEFER_BAND,
    deferred_actions,
    next_ct_episodes,
    policy_defers,
)
from boneflare.benchmarks.metrics import DEFERRAL_POLICIES, TRADEOFF_METRICS, policy_metric
from boneflare.simulator.observed import ACTION_CONTINUE, ACTION_DEFER, ACTION_STOP

C, S, D = ACTION_CONTINUE, ACTION_STOP, ACTION_DEFER

# Four patients with bone metastases, CT every 42 days (scan k on day 42 k):
# 1: flare; worse at scan 1 (its decision point), not at scan 2.
# 2: progression on day 30; worse at scans 1 and 2.
# 3: progression on day 30; worse at scans 1 and 3, scan 2 missed (not done).
# 4: flare; worse at scans 1 and 2 (the healing bone still reads worse at the next CT).
EPISODES = pd.DataFrame(
    {
        "episode_id": [11, 21, 22, 31, 33, 41, 42],
        "patient_id": [1, 2, 2, 3, 3, 4, 4],
        "day": [42, 42, 84, 42, 126, 42, 84],
        "scan_index": [1, 1, 2, 1, 3, 1, 2],
    }
)
SCANS = pd.DataFrame(
    {
        "patient_id": [p for p in (1, 2, 3, 4) for _ in range(4)],
        "scan_index": [0, 1, 2, 3] * 4,
    }
)
SCANS = SCANS[~((SCANS["patient_id"] == 3) & (SCANS["scan_index"] == 2))]
DECISION = np.array([True, True, False, True, False, True, False])
TRUTH = pd.DataFrame(
    {
        "patient_id": [1, 2, 3, 4],
        "progression_day": [400.0, 30.0, 30.0, 400.0],
        "dropout_day": [1000.0] * 4,
        "first_progression_episode_day": [np.nan, 42.0, 42.0, np.nan],
        "flare_observed_day": [42.0, np.nan, np.nan, 42.0],
    }
)
HORIZON = 365.0
NEXT_CT = next_ct_episodes(EPISODES, SCANS)


def test_the_episode_at_the_next_ct_done():
    # 1: scan 2 done but not worse; 2: scan 2; 3: scan 3 (scan 2 missed); 4: scan 2;
    # nothing follows a patient's last worse reading at scans 2 and 3
    assert NEXT_CT.tolist() == [-1, 2, -1, 4, -1, 6, -1]


def test_a_deferred_decision_point_is_confirmed_by_a_worse_reading_at_the_next_ct_done():
    calls = np.array([S, S, S, S, S, S, S], dtype=np.int8)  # stop at every worse reading
    out = deferred_actions(NEXT_CT, DECISION, np.ones(7, bool), calls)
    # deferred at every decision point; 2 and 4 worse again at scan 2: stop there;
    # 3's next CT done is scan 3 (scan 2 missed), worse again: stop there
    assert out.tolist() == [D, D, S, D, S, D, S]


def test_without_a_worse_next_ct_treatment_goes_on_and_later_calls_are_the_classifiers():
    calls = np.array([S, C, C, C, C, C, C], dtype=np.int8)
    defer = np.array([True, False, False, False, False, False, False])
    out = deferred_actions(NEXT_CT, DECISION, defer, calls)
    assert out.tolist() == [D, C, C, C, C, C, C]


def test_a_next_ct_of_another_patient_never_confirms():
    scans = SCANS[SCANS["patient_id"] != 2]  # patient 2 has no CT after its decision point
    scans = pd.concat([scans, pd.DataFrame({"patient_id": [2], "scan_index": [1]})])
    calls = np.full(7, C, dtype=np.int8)
    out = deferred_actions(next_ct_episodes(EPISODES, scans), DECISION, np.ones(7, bool), calls)
    assert out[1:3].tolist() == [D, C]


def test_policies_defer_all_or_the_uncertain_band():
    p = np.array([0.0, 0.5 - DEFER_BAND, 0.4, 0.6, 0.5 + DEFER_BAND, 1.0])
    assert policy_defers("defer_all", p, 0.5).all()
    assert policy_defers("defer_uncertain", p, 0.5).tolist() == [0, 0, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="unknown deferral policy"):
        policy_defers("call", p, 0.5)


def test_the_trade_off_numbers_of_a_small_case():
    outcomes = CohortOutcomes(EPISODES, TRUTH, HORIZON)
    single_scan = np.array([S, S, S, S, S, C, C], dtype=np.int8)  # right but for flare 1
    call = outcomes.open_loop(single_scan, calls=DECISION)
    # flare patients 1 and 4: 1 stopped on day 42 while effective; 4 kept on treatment
    assert call["flare_patients_stopped_share"] == 0.5
    # progressions 2 and 3 stopped at their decision point: no delay
    assert call["progression_delay_days"] == 0.0
    assert call["episodes_deferred_share"] == 0.0
    # flare 1's treatment would have worked until the horizon: lost from day 42
    assert call["effective_days_lost"] == pytest.approx((HORIZON - 42) / 4)

    deferred = deferred_actions(NEXT_CT, DECISION, np.ones(7, bool), single_scan)
    wait = outcomes.open_loop(deferred, calls=DECISION)
    # flare 1 spared (its next CT is not worse), flare 4 stopped at the confirming CT
    assert wait["flare_patients_stopped_share"] == 0.5
    # progression 2 stopped one CT later (42 days), 3 two CTs later (84 days)
    assert wait["progression_delay_days"] == (42 + 84) / 2
    assert wait["episodes_deferred_share"] == 1.0
    assert wait["effective_days_lost"] == pytest.approx((HORIZON - 84) / 4)


def test_the_decision_point_summary_counts_only_patients_with_a_decision_point():
    outcomes = CohortOutcomes(EPISODES, TRUTH, HORIZON)
    only_two = np.array([False, True, False, False, False, False, False])
    values = outcomes.open_loop(np.full(7, S, dtype=np.int8), calls=only_two)
    assert math.isnan(values["flare_patients_stopped_share"])  # patient 2 had no flare
    assert values["progression_delay_days"] == 0.0
    assert values["effective_days_lost"] == 0.0


def test_the_aggregated_trade_off_has_one_row_per_classifier_and_policy():
    rows = []
    for replicate, shift in enumerate((0.0, 0.2)):
        for policy in DEFERRAL_POLICIES:
            for k, metric in enumerate(TRADEOFF_METRICS):
                value = 0.1 * (k + 1) + shift + DEFERRAL_POLICIES.index(policy)
                rows.append(
                    ("s", "decision_point", "a", replicate, policy_metric(metric, policy), value)
                )
        rows.append(("s", "all_episodes", "a", replicate, "roc_auc", 0.5))
    results = pd.DataFrame(
        rows, columns=["scenario", "task", "classifier", "replicate", "metric", "value"]
    )
    table = deferral_tradeoff(summarise(results))
    assert table["policy"].astype(str).tolist() == list(DEFERRAL_POLICIES)
    assert set(table["task"].astype(str)) == {"decision_point"}
    defer_all = table[table["policy"] == "defer_all"].iloc[0]
    assert defer_all["progression_delay_days_mean"] == pytest.approx(2 + 0.2 + 0.1)
    assert defer_all["progression_delay_days_mcse"] == pytest.approx(0.1)

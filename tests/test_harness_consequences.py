"""Consequences for patients: open-loop inference equals what the closed loop records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_harness_plugins import DeferTest, EarlyTest, NaiveTest

from boneflare.benchmarks.harness.consequences import (
    CONSEQUENCE_METRICS,
    closed_loop_consequences,
    inferred_stops,
    open_loop_consequences,
    patient_outcomes,
)
from boneflare.benchmarks.metrics import METRIC_DIRECTIONS
from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.observed import ACTION_CONTINUE, ACTION_DEFER, ACTION_STOP, build_batch


def test_consequence_metrics_are_known_to_the_aggregation():
    assert set(CONSEQUENCE_METRICS) <= set(METRIC_DIRECTIONS)


@pytest.mark.parametrize("cls", [NaiveTest, EarlyTest, DeferTest], ids=lambda c: c.name)
def test_open_loop_inference_equals_the_closed_loop(cls, paper):
    """Same patients, same draws: inferred stops give what a closed-loop run records."""
    cohort = simulate(paper, 1500, seed=21)
    batch = build_batch(cohort.episodes, cohort.patients, cohort.labs, cohort.scans)
    decision = cls().fit(batch).decide(batch)
    inferred = open_loop_consequences(
        cohort.episodes, decision.action, cohort.truth, paper.horizon_days
    )
    closed = simulate(paper, 1500, seed=21, policy=cls(), closed_loop=True)
    recorded = closed_loop_consequences(
        closed.truth, closed.decisions, cohort.truth, cohort.episodes, paper.horizon_days
    )
    assert inferred.keys() == recorded.keys() == set(CONSEQUENCE_METRICS)
    for name in CONSEQUENCE_METRICS:
        assert inferred[name] == pytest.approx(recorded[name], rel=1e-12, nan_ok=True), name
    # and per patient: the inferred stop days are the recorded ones
    stops, _ = inferred_stops(cohort.episodes, decision.action)
    recorded_stops = closed.truth.set_index("patient_id")["stop_day"].dropna()
    pd.testing.assert_series_equal(
        stops.astype(float).sort_index(),
        recorded_stops.sort_index(),
        check_names=False,
        check_index_type=False,
    )


def test_inferred_stop_is_the_first_stop_call_and_later_calls_are_not_reached():
    episodes = pd.DataFrame({"patient_id": [1, 1, 1, 2, 2], "day": [40, 80, 120, 45, 90]})
    actions = np.array([ACTION_DEFER, ACTION_STOP, ACTION_STOP, ACTION_CONTINUE, ACTION_DEFER])
    stops, reached = inferred_stops(episodes, actions)
    assert stops.to_dict() == {1: 80.0}
    assert reached.tolist() == [True, True, False, True, True]


def test_patient_outcomes_follow_the_simulator_definitions():
    truth = pd.DataFrame(
        {
            "progression_day": [300.0, 100.0, 500.0],
            "dropout_day": [1000.0, 1000.0, 200.0],
            "first_progression_episode_day": [330.0, 120.0, np.nan],
        }
    )
    stop = np.array([60.0, 120.0, np.nan])
    lost, delay = patient_outcomes(stop, truth, horizon_days=365)
    # patient 0: stopped at 60 while effective until 300; stopped before its PD episode
    # patient 1: stopped at its PD episode, after progression: nothing lost, no delay
    # patient 2: never stopped; no PD episode
    assert lost[0] == 300 - 60
    assert lost[1] == 0
    assert math.isnan(lost[2])
    assert math.isnan(delay[0])
    assert delay[1] == 0
    assert math.isnan(delay[2])


def test_without_flare_patients_the_flare_share_is_missing_not_zero():
    scenario = load_scenario("paper", ["flare.enabled=false"])
    cohort = simulate(scenario, 300, seed=4)
    actions = np.full(len(cohort.episodes), ACTION_STOP, dtype=np.int8)
    values = open_loop_consequences(cohort.episodes, actions, cohort.truth, scenario.horizon_days)
    assert math.isnan(values["flare_patients_stopped_share"])
    assert values["episodes_deferred_share"] == 0.0


def test_consequences_of_every_task_at_once_equal_each_task_alone(paper):
    from boneflare.benchmarks.harness.consequences import CohortOutcomes
    from boneflare.simulator.observed import decision_points

    cohort = simulate(paper, 800, seed=5)
    outcomes = CohortOutcomes(cohort.episodes, cohort.truth, paper.horizon_days)
    tasks = {
        "decision_point": decision_points(cohort.episodes, cohort.patients, cohort.scans),
        "all_episodes": None,
    }
    rng = np.random.default_rng(3)
    for _ in range(5):
        actions = rng.choice([ACTION_CONTINUE, ACTION_STOP, ACTION_DEFER], len(cohort.episodes))
        together = outcomes.open_loop_tasks(actions.astype(np.int8), tasks)
        for task, calls in tasks.items():
            alone = outcomes.open_loop(actions.astype(np.int8), calls=calls)
            assert together[task].keys() == alone.keys()
            for name, value in alone.items():
                assert together[task][name] == value or (
                    math.isnan(value) and math.isnan(together[task][name])
                )

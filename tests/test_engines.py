"""Engines and reproducibility: one seed, identical tables whatever the engine or workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import assert_tables_equal, tables_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds, simulation_overrides

from boneflare.simulator import RunSpec, load_scenario, simulate, simulate_patient, simulate_range
from boneflare.simulator.engine import AlwaysContinue, AlwaysStop
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.tables import CohortTables


@given(simulation_overrides(), seeds)
def test_reference_and_batched_engines_give_identical_tables(overrides, seed):
    scenario = load_scenario("paper", overrides)
    batched = simulate(scenario, 60, seed, engine="batched")
    reference = simulate(scenario, 60, seed, engine="reference")
    assert_tables_equal(batched, reference)


@settings(max_examples=5)
@given(seeds)
def test_engines_agree_in_closed_loop_with_a_policy(seed):
    scenario = load_scenario("paper")
    for policy in (AlwaysStop(), AlwaysContinue()):
        a = simulate(scenario, 50, seed, engine="batched", policy=policy, closed_loop=True)
        b = simulate(scenario, 50, seed, engine="reference", policy=policy, closed_loop=True)
        assert_tables_equal(a, b)


def test_one_and_two_workers_and_any_chunk_size_give_identical_tables(paper):
    one = simulate(paper, 900, seed=5, workers=1)
    two = simulate(paper, 900, seed=5, workers=2, chunk_size=250)
    small = simulate(paper, 900, seed=5, workers=1, chunk_size=97)
    assert_tables_equal(one, two)
    assert_tables_equal(one, small)


@given(simulation_overrides(), seeds)
def test_same_seed_same_tables_different_seed_different_tables(overrides, seed):
    scenario = load_scenario("paper", overrides)
    a = simulate(scenario, 40, seed)
    assert_tables_equal(a, simulate(scenario, 40, seed))
    assert not tables_equal(a, simulate(scenario, 40, seed + 1))


def test_a_smaller_cohort_is_the_start_of_a_larger_one(paper):
    big = simulate(paper, 700, seed=2)
    small = simulate(paper, 300, seed=2)
    for name in ("patients", "truth"):
        pd.testing.assert_frame_equal(getattr(big, name).iloc[:300], getattr(small, name))


@given(seeds, st.integers(0, 9000))
def test_any_patient_can_be_regenerated_alone(seed, patient_id):
    for name in ("paper", "paper57"):
        spec = RunSpec(load_scenario(name), seed)
        alone = simulate_patient(spec, patient_id)
        lo = max(0, patient_id - 3)
        around = simulate_range(spec, lo, patient_id + 4)
        for table in ("patients", "labs", "scans", "episodes", "truth"):
            frame = getattr(around, table)
            rows = frame[frame["patient_id"] == patient_id].reset_index(drop=True)
            pd.testing.assert_frame_equal(getattr(alone, table), rows, check_exact=True)


def test_closed_loop_always_stop_ends_follow_up_at_the_first_episode(paper):
    tables = simulate(paper, 1500, seed=4, policy=AlwaysStop(), closed_loop=True)
    first = tables.episodes.groupby("patient_id")["day"].min()
    assert len(first) > 0
    assert tables.episodes.groupby("patient_id").size().max() == 1
    truth = tables.truth.set_index("patient_id")
    np.testing.assert_array_equal(truth.loc[first.index, "stop_day"], first.to_numpy())
    for table in (tables.labs, tables.scans):
        last = table.groupby("patient_id")["day"].max()
        stopped = last.index.intersection(first.index)
        assert (last.loc[stopped] <= first.loc[stopped]).all()
    decisions = tables.decisions
    assert len(decisions) == len(tables.episodes)
    assert (decisions["action"] == "stop").all() and decisions["applied"].all()
    lost = truth.loc[first.index, "effective_days_lost"]
    assert (lost >= 0).all()


def test_closed_loop_always_continue_changes_nothing_but_the_decisions(paper):
    open_loop = simulate(paper, 800, seed=6)
    closed = simulate(paper, 800, seed=6, policy=AlwaysContinue(), closed_loop=True)
    for name in CohortTables.names():
        if name not in ("decisions", "truth"):
            pd.testing.assert_frame_equal(getattr(open_loop, name), getattr(closed, name))
    assert len(closed.decisions) == len(closed.episodes)
    assert (closed.decisions["action"] == "continue").all()
    delay = closed.truth["progression_delay_days"].dropna()
    assert len(delay) > 0 and (delay >= 0).all()


def test_open_loop_with_policy_records_without_acting(paper):
    plain = simulate(paper, 500, seed=8)
    recorded = simulate(paper, 500, seed=8, policy=AlwaysStop(), closed_loop=False)
    pd.testing.assert_frame_equal(plain.scans, recorded.scans)
    assert len(recorded.decisions) == len(recorded.episodes)
    assert not recorded.decisions["applied"].any()
    assert recorded.truth["stop_day"].isna().all()


def test_bad_run_arguments_raise_boneflare_errors(paper):
    with pytest.raises(BoneflareError, match="seed"):
        simulate(paper, 10, seed=-1)
    with pytest.raises(BoneflareError, match="patients"):
        simulate(paper, 0)
    with pytest.raises(BoneflareError, match="engine"):
        simulate(paper, 10, engine="warp")
    with pytest.raises(BoneflareError, match="closed loop"):
        simulate(paper, 10, closed_loop=True)
    with pytest.raises(BoneflareError, match="workers"):
        simulate(paper, 10, workers=0)


def test_tables_have_the_documented_columns_and_dtypes(paper_cohort):
    from boneflare.simulator.table_schema import TABLES

    for name, frame in paper_cohort.items():
        expected = TABLES[name]
        assert list(frame.columns) == list(expected), name
        for column, spec in expected.items():
            assert frame[column].dtype == spec.pandas_dtype(), (name, column)

"""The open-loop pass gives the reference engine's tables, byte for byte, on any run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import assert_tables_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds, simulation_overrides

from boneflare.simulator import RunSpec, load_scenario, simulate, simulate_range
from boneflare.simulator.cohort import make_baseline
from boneflare.simulator.draws import DRAW_BLOCK, Draws, _layout, draw_block, draws_for_range
from boneflare.simulator.engine import AlwaysStop, FollowUp
from boneflare.simulator.engine.batched import run_event_loop
from boneflare.simulator.engine.open_loop import run_open_loop
from boneflare.simulator.latent import make_latent
from boneflare.simulator.observation import Patients
from boneflare.simulator.scenarios.loader import preset_names
from boneflare.simulator.schedule import make_schedule
from boneflare.simulator.tables import CohortTables, cohort_tables

# Ranges cross draw-block boundaries; length 1 is what ``--patient-id`` simulates.
patient_ranges = st.tuples(st.integers(0, 3 * DRAW_BLOCK), st.integers(1, 40))


def _assert_identical(a: CohortTables, b: CohortTables) -> None:
    """Every table equal (``DataFrame.equals``) with the same dtypes, and bit for bit."""
    for name in CohortTables.names():
        x, y = getattr(a, name), getattr(b, name)
        assert x.equals(y), name
        assert list(x.dtypes) == list(y.dtypes), name
    assert_tables_equal(a, b)


def _followup(spec: RunSpec, start: int, stop: int) -> FollowUp:
    scenario = spec.scenario
    draws = draws_for_range(spec.seed, start, stop, scenario)
    baseline = make_baseline(scenario, spec.seed, start, draws)
    patients = Patients(scenario, baseline, make_latent(scenario, baseline, draws), draws)
    return FollowUp(patients, make_schedule(scenario, draws))


@settings(deadline=None, max_examples=60)
@given(
    st.sampled_from(preset_names()),
    simulation_overrides(),
    seeds,
    patient_ranges,
)
def test_open_loop_pass_gives_the_reference_tables(preset, overrides, seed, patient_range):
    scenario = load_scenario(preset, overrides)
    start, length = patient_range
    fast = simulate_range(RunSpec(scenario, seed, engine="batched"), start, start + length)
    reference = simulate_range(RunSpec(scenario, seed, engine="reference"), start, start + length)
    _assert_identical(fast, reference)


@settings(deadline=None, max_examples=10)
@given(st.sampled_from(preset_names()), seeds, st.integers(1, 40))
def test_multi_chunk_runs_give_the_reference_tables(preset, seed, chunk_size):
    scenario = load_scenario(preset)
    chunked = simulate(scenario, 90, seed, chunk_size=chunk_size)
    reference = simulate_range(RunSpec(scenario, seed, engine="reference"), 0, 90)
    _assert_identical(chunked, reference)


@settings(deadline=None, max_examples=25)
@given(simulation_overrides(), seeds, patient_ranges)
def test_open_loop_pass_fills_the_record_and_state_of_the_event_loop(overrides, seed, rng):
    spec = RunSpec(load_scenario("paper", overrides), seed)
    start, length = rng
    fast = run_open_loop(_followup(spec, start, start + length))
    slow = run_event_loop(_followup(spec, start, start + length))
    for name in vars(slow.record):
        np.testing.assert_array_equal(getattr(fast.record, name), getattr(slow.record, name))
    np.testing.assert_array_equal(fast.baseline_sum, slow.baseline_sum)
    np.testing.assert_array_equal(fast.nadir, slow.nadir)
    assert slow.visits is None and fast.visits is not None
    _assert_identical(cohort_tables(fast), cohort_tables(slow))


def test_open_loop_pass_refuses_a_policy(paper):
    fu = _followup(RunSpec(paper, 1), 0, 5)
    fu.policy = AlwaysStop()
    with pytest.raises(ValueError, match="policy"):
        run_open_loop(fu)


@given(seeds, st.integers(0, 3 * DRAW_BLOCK), st.integers(1, 2 * DRAW_BLOCK + 5))
@settings(deadline=None, max_examples=15)
def test_draws_of_a_range_are_the_rows_of_whole_blocks(seed, start, length):
    scenario = load_scenario("paper")
    stop = start + length
    blocks = range(start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK + 1)
    whole = Draws.concat([draw_block(seed, b, scenario) for b in blocks])
    offset = blocks[0] * DRAW_BLOCK
    expected = whole.take(slice(start - offset, stop - offset))
    got = draws_for_range(seed, start, stop, scenario)
    for name, value in vars(expected).items():
        assert getattr(got, name).dtype == value.dtype
        np.testing.assert_array_equal(getattr(got, name), value, err_msg=name)


def test_draw_block_keeps_the_streams_of_sized_draws():
    """Filling preallocated arrays draws the numbers that sized draws did."""
    scenario = load_scenario("paper")
    got = draw_block(11, 3, scenario)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(11, spawn_key=(0, 3))))
    expected = {
        name: (rng.random if kind == "u" else rng.standard_normal)((DRAW_BLOCK, *shape))
        for name, kind, shape in _layout(scenario)
    }
    for name, value in expected.items():
        np.testing.assert_array_equal(getattr(got, name), value, err_msg=name)


def test_open_loop_tables_match_the_event_loop_on_a_full_chunk(paper):
    spec = RunSpec(paper, 3)
    fast = cohort_tables(run_open_loop(_followup(spec, 0, 5000)))
    slow = cohort_tables(run_event_loop(_followup(spec, 0, 5000)))
    assert len(fast.episodes) > 0 and fast.truth["flare"].any()
    _assert_identical(fast, slow)
    pd.testing.assert_series_equal(fast.labs["day"], slow.labs["day"])

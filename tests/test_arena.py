"""Workers writing a cohort in place (simulator/arena.py): same tables, nothing left behind."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
from helpers import assert_tables_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds, simulation_overrides

from boneflare.simulator import RunSpec, arena, load_scenario, simulate, simulate_range
from boneflare.simulator.scenarios.loader import preset_names
from boneflare.simulator.tables import CohortTables

pytestmark = pytest.mark.skipif(not arena.available(), reason="needs memfd_create (Linux)")

FILE_NAME = "boneflare-cohort"


def _identical(a: CohortTables, b: CohortTables) -> None:
    for name in CohortTables.names():
        x, y = getattr(a, name), getattr(b, name)
        assert x.equals(y), name
        assert list(x.dtypes) == list(y.dtypes), name
        assert x.index.equals(y.index), name
    assert_tables_equal(a, b)


def _open_files() -> list[str]:
    """Targets of this process's descriptors that are the arena's file."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if FILE_NAME in target:
            found.append(target)
    return found


def _mapped() -> bool:
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return FILE_NAME in maps.read()


@settings(deadline=None, max_examples=8)
@given(
    st.sampled_from(preset_names()),
    simulation_overrides(),
    seeds,
    st.integers(1, 700),
    st.integers(1, 300),
)
def test_in_place_runs_give_the_tables_of_one_process(preset, overrides, seed, n, chunk_size):
    scenario = load_scenario(preset, overrides)
    in_place = simulate(scenario, n, seed, workers=2, chunk_size=chunk_size)
    alone = simulate_range(RunSpec(scenario, seed), 0, n)
    _identical(in_place, alone)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"labs.missed_fraction": 0.0, "labs.delay_fraction": 0.0, "dropout.hazard_per_day": 0.0},
        {"horizon_days": 900, "ct.interval_days": 14, "ct.jitter_min_days": -3},
        {"labs.interval_days": 7, "dropout.hazard_per_day": 0.0},
    ],
)
def test_no_patient_has_more_rows_than_the_bound(overrides):
    scenario = load_scenario("paper", overrides)
    tables = simulate_range(RunSpec(scenario, 11), 0, 400)
    bound = arena.rows_per_patient(scenario)
    for name, frame in tables.items():
        if "patient_id" in frame and len(frame):
            most = frame.groupby("patient_id", observed=True).size().max()
        else:
            most = len(frame) and int(np.ceil(len(frame) / 400))
        assert most <= bound[name], name
    assert bound["decisions"] == 0 and len(tables.decisions) == 0


def test_the_file_is_gone_with_the_tables():
    tables = simulate("paper", 3000, 5, workers=2, chunk_size=700)
    # The tables are views of the file, nothing was copied; the mapping keeps its own
    # descriptor (Python's mmap), the run's own is closed.
    assert _mapped() and len(_open_files()) == 1
    del tables
    gc.collect()
    assert not _mapped() and _open_files() == []


def test_a_chunk_that_overflows_its_slot_fails_the_run_and_leaves_nothing(monkeypatch):
    small = {"patients": 1, "labs": 1, "scans": 1, "episodes": 1, "truth": 1}
    monkeypatch.setattr(
        arena, "rows_per_patient", lambda scenario: {**small, "episode_truth": 1, "decisions": 0}
    )
    with pytest.raises(ValueError, match=r"labs: \d+ rows in a chunk, room for"):
        simulate("paper", 400, 5, workers=2, chunk_size=100)
    gc.collect()
    assert _open_files() == [] and not _mapped()


def test_a_failing_chunk_fails_the_run_instead_of_leaving_later_chunks_waiting(monkeypatch):
    import time

    from boneflare.simulator import run

    real = run._follow_up

    def follow_up(spec, lo, hi):
        if lo == 100:  # later chunks finish first and wait for this one's row counts
            time.sleep(0.5)
            raise RuntimeError("chunk 1 broke")
        return real(spec, lo, hi)

    monkeypatch.setattr(run, "_follow_up", follow_up)
    with pytest.raises(RuntimeError, match="chunk 1 broke"):
        simulate("paper", 600, 5, workers=2, chunk_size=100)
    gc.collect()
    assert _open_files() == [] and not _mapped()


def test_a_policy_or_an_executor_takes_the_copying_path():
    from concurrent.futures import ThreadPoolExecutor

    from boneflare.simulator.engine import AlwaysStop

    spec = RunSpec(load_scenario("paper"), 3)
    with_policy = RunSpec(spec.scenario, 3, policy=AlwaysStop())
    from boneflare.simulator.run import _in_place

    assert _in_place(spec, {"workers": 2})
    assert not _in_place(with_policy, {"workers": 2})
    assert not _in_place(spec, {"workers": 1})
    with ThreadPoolExecutor(2) as pool:
        assert not _in_place(spec, {"workers": 2, "executor": pool})

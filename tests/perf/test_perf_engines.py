"""pytest-benchmark suites of the engines (run apart: ``pytest -m benchmark tests/perf``)."""

from __future__ import annotations

import pytest

from boneflare.benchmarks.perf.stages import STAGES, WAYS, one_chunk
from boneflare.simulator import RunSpec, load_scenario, simulate, simulate_range
from boneflare.simulator.engine import AlwaysStop

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def spec():
    return RunSpec(load_scenario("paper"), seed=7)


@pytest.mark.benchmark(group="engine-chunk")
def test_batched_chunk_65536(benchmark, spec):
    """The default path: the open-loop pass (no policy)."""
    tables = benchmark(simulate_range, spec, 0, 65_536)
    assert len(tables.patients) == 65_536


@pytest.mark.benchmark(group="engine-chunk")
@pytest.mark.parametrize("way", WAYS)
def test_chunk_stages_16384(benchmark, spec, way):
    """One 16,384-patient chunk, the event loop's way and the open-loop pass's way."""
    times = benchmark(one_chunk, way, spec.scenario, spec.seed, 16_384)
    assert set(times) == set(STAGES)


@pytest.mark.benchmark(group="engine-chunk")
def test_event_loop_chunk_with_a_policy_4096(benchmark, spec):
    """A policy that acts: the SimPy event loop runs."""
    acting = RunSpec(spec.scenario, spec.seed, policy=AlwaysStop(), closed_loop=True)
    tables = benchmark.pedantic(simulate_range, args=(acting, 0, 4096), rounds=3)
    assert len(tables.decisions) == len(tables.episodes) > 0


@pytest.mark.benchmark(group="engine-chunk")
def test_reference_1000(benchmark, spec):
    spec_ref = RunSpec(spec.scenario, spec.seed, engine="reference")
    tables = benchmark.pedantic(simulate_range, args=(spec_ref, 0, 1000), rounds=3)
    assert len(tables.patients) == 1000


@pytest.mark.benchmark(group="cohort")
def test_batched_200k_two_workers(benchmark, spec):
    tables = benchmark.pedantic(
        simulate, args=(spec.scenario, 200_000, spec.seed), kwargs={"workers": 2}, rounds=2
    )
    assert len(tables.patients) == 200_000

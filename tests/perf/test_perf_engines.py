"""pytest-benchmark suites of the engines (run apart: ``pytest -m benchmark tests/perf``)."""

from __future__ import annotations

import pytest

from boneflare.simulator import RunSpec, load_scenario, simulate, simulate_range

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def spec():
    return RunSpec(load_scenario("paper"), seed=7)


@pytest.mark.benchmark(group="engine-chunk")
def test_batched_chunk_65536(benchmark, spec):
    tables = benchmark(simulate_range, spec, 0, 65_536)
    assert len(tables.patients) == 65_536


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

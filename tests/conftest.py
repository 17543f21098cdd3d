"""Shared test configuration: one hypothesis profile, small fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("BONEFLARE_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def paper():
    """The default scenario."""
    from boneflare.simulator import load_scenario

    return load_scenario("paper")


@pytest.fixture(scope="session")
def paper_cohort(paper):
    """A default-scenario cohort of 3,000 patients (seed 3), shared read-only."""
    from boneflare.simulator import simulate

    return simulate(paper, 3000, seed=3)


@pytest.fixture(scope="session", autouse=True)
def _private_fit_cache(tmp_path_factory):
    """Benchmarks run by the tests (and their child processes) share a cache of their own."""
    os.environ["BONEFLARE_CACHE_DIR"] = str(tmp_path_factory.mktemp("fit-cache"))

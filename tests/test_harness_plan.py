"""Seeds, grids and plans: stable names, derived seeds, training seeds apart from test seeds."""

from __future__ import annotations

import pytest
from hypothesis import given
from strategies import replicate_numbers, seed_coordinates, seed_purposes, seeds
from test_harness_plugins import EarlyTest, LearnedTest, NaiveTest

from boneflare.benchmarks.harness.grid import GridError, grid_points, parse_axis, parse_grid
from boneflare.benchmarks.harness.plan import BenchmarkConfig, make_plan
from boneflare.benchmarks.harness.seeds import SEED_BITS, cohort_seed, derive_seed, training_seed
from boneflare.simulator import load_scenario
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.scenarios import scenario_hash


@given(seeds, seed_purposes, seed_coordinates, replicate_numbers)
def test_derived_seeds_are_reproducible_and_in_range(seed, purpose, coord, replicate):
    a = derive_seed(seed, purpose, coord, replicate)
    assert a == derive_seed(seed, purpose, coord, replicate)
    assert 0 <= a < 2**SEED_BITS


@given(seeds, seed_coordinates, replicate_numbers)
def test_purposes_and_coordinates_give_different_seeds(seed, coord, replicate):
    test = derive_seed(seed, "test", coord, replicate)
    assert test != derive_seed(seed, "train", coord, replicate)
    assert test != derive_seed(seed, "test", coord, replicate + 1)
    assert test != derive_seed(seed + 1, "test", coord, replicate)


def test_bad_seed_inputs_are_refused():
    with pytest.raises(ValueError, match="purpose"):
        derive_seed(1, "validation")
    with pytest.raises(ValueError, match="non-negative"):
        derive_seed(-1, "test")


def test_grid_is_a_cartesian_product_with_stable_sorted_names():
    axes = parse_grid(["labs.noise=1,2", "ct.interval_days=42,56,84"])
    points = grid_points(axes)
    assert len(points) == 6
    names = [p.suffix() for p in points]
    assert len(set(names)) == 6
    assert names[0] == "[ct.interval_days=42,labs.noise=1]"
    swapped = grid_points(parse_grid(["ct.interval_days=42,56,84", "labs.noise=1,2"]))
    assert sorted(names) == sorted(p.suffix() for p in swapped)
    assert points[0].as_dict() == {"labs.noise": 1, "ct.interval_days": 42}


def test_grid_from_a_mapping_equals_grid_from_options():
    from_options = grid_points(parse_grid(["ct.interval_days=42,56", "flare.enabled=true,false"]))
    from_mapping = grid_points(
        parse_grid({"ct.interval_days": [42, 56], "flare.enabled": [1 == 1, 0 == 1]})
    )
    assert [p.suffix() for p in from_options] == [p.suffix() for p in from_mapping]
    assert [p.as_dict() for p in from_options] == [p.as_dict() for p in from_mapping]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("ct.interval_days", "must look like"),
        ("ct.interval_days=", "empty value"),
        ("ct.interval_days=42,,56", "empty value"),
        ("=42,56", "malformed parameter name"),
        ("ct..interval_days=42", "malformed parameter name"),
        ("ct.interval_days=42,42", "repeats a value"),
    ],
)
def test_bad_grid_syntax_is_one_clear_error(text, needle):
    with pytest.raises(GridError, match=needle):
        parse_axis(text)


def test_a_grid_key_given_twice_is_refused():
    with pytest.raises(GridError, match="given twice"):
        parse_grid(["ct.interval_days=42", "ct.interval_days=56"])


def test_plan_derives_one_unit_per_point_and_replicate():
    config = BenchmarkConfig(
        classifiers=[NaiveTest, EarlyTest(window_days=60), LearnedTest],
        grid=["ct.interval_days=42,56"],
        replicates=3,
        patients=100,
        seed=5,
    )
    plan = make_plan(config)
    assert [p.label for p in plan.points] == [
        "paper[ct.interval_days=42]",
        "paper[ct.interval_days=56]",
    ]
    assert [p.scenario.ct.interval_days for p in plan.points] == [42, 56]
    assert len(plan.units) == 6
    assert len({u.name for u in plan.units}) == 6
    for unit in plan.units:
        point = plan.point(unit.scenario)
        assert unit.seed == cohort_seed(5, scenario_hash(point.scenario), unit.replicate)
    assert plan.classifiers[1].prototype.window_days == 60
    # one model per learned classifier and training scenario (here: each test scenario)
    assert [j.classifier for j in plan.jobs] == ["learned_test", "learned_test"]
    assert plan.jobs[0].seed == training_seed(5, plan.points[0].hash, "learned_test")
    assert plan.jobs[0].patients == LearnedTest.training_patients
    assert plan.reference is None


@given(seeds)
def test_training_seeds_never_serve_as_test_cohorts(seed):
    config = BenchmarkConfig(
        classifiers=[NaiveTest, LearnedTest],
        grid=["ct.interval_days=42,56"],
        replicates=20,
        patients=100,
        seed=seed,
    )
    plan = make_plan(config)
    test_seeds = {u.seed for u in plan.units}
    assert len(test_seeds) == len(plan.units)
    assert test_seeds.isdisjoint({j.seed for j in plan.jobs})


class OracleTest(LearnedTest):
    """A learned classifier that trains on each test scenario (as the Bayes oracle)."""

    name = "oracle_test"
    trains_on_test_scenario = True


def test_train_scenario_shares_one_model_unless_the_classifier_trains_on_the_test_scenario():
    config = BenchmarkConfig(
        classifiers=[LearnedTest, OracleTest],
        grid=["ct.interval_days=42,56"],
        replicates=1,
        patients=100,
        train_scenario="ct_every_12_weeks",
    )
    plan = make_plan(config)
    learned = {plan.models[(p.label, "learned_test")] for p in plan.points}
    oracle = {plan.models[(p.label, "oracle_test")] for p in plan.points}
    assert len(learned) == 1
    assert len(oracle) == 2
    job = next(j for j in plan.jobs if j.classifier == "learned_test")
    assert job.scenario_hash == scenario_hash(load_scenario("ct_every_12_weeks"))


def test_overrides_apply_to_scenario_objects_too():
    base = load_scenario("paper")
    plan = make_plan(
        BenchmarkConfig(
            classifiers=[NaiveTest], scenarios=[base], overrides=["ct.interval_days=84"]
        )
    )
    by_name = make_plan(BenchmarkConfig(classifiers=[NaiveTest], overrides=["ct.interval_days=84"]))
    assert plan.points[0].hash == by_name.points[0].hash


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        (BenchmarkConfig(classifiers=["no_such_classifier"]), "unknown classifier"),
        (BenchmarkConfig(classifiers=[NaiveTest], scenarios=["nope"]), "unknown scenario"),
        (BenchmarkConfig(classifiers=[NaiveTest], grid=["ct.interval_days"]), "must look like"),
        (
            BenchmarkConfig(classifiers=[NaiveTest], grid=["ct.interval_days=-5"]),
            "ct.interval_days",
        ),
        (BenchmarkConfig(classifiers=[NaiveTest], replicates=0), "replicates"),
        (BenchmarkConfig(classifiers=[NaiveTest, NaiveTest()]), "given twice"),
        (BenchmarkConfig(classifiers=[NaiveTest], reference="early_test"), "reference"),
        (BenchmarkConfig(classifiers=[NaiveTest], engine="warp"), "unknown engine"),
        (BenchmarkConfig(classifiers=[object()]), "FlareClassifier"),
        (BenchmarkConfig(classifiers=[NaiveTest], scenarios=["paper", "paper"]), "share the name"),
    ],
)
def test_bad_configurations_fail_before_any_work(config, needle):
    with pytest.raises(BoneflareError, match=needle):
        make_plan(config)


# ----------------------------------------------------------------- building side by side
class _WaitsTest(NaiveTest):
    """Its ``__init__`` waits (at most 20 s) for a file that only another's creates."""

    name = "waits_test"
    flag = ""

    def __init__(self):
        import os
        import time

        for _ in range(2000):
            if os.path.exists(self.flag):
                return
            time.sleep(0.01)
        raise TimeoutError("built alone")


class _CreatesTest(NaiveTest):
    """Its ``__init__`` creates the file :class:`_WaitsTest` waits for."""

    name = "creates_test"

    def __init__(self):
        with open(_WaitsTest.flag, "w"):
            pass


def test_classifiers_are_built_side_by_side_each_in_its_child(tmp_path, monkeypatch):
    import threading

    from boneflare.benchmarks.harness.entries import resolve_classifiers

    # children forked from this process see the flag (earlier tests' threads would send
    # the builds through the fork server, which does not)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(_WaitsTest, "flag", str(tmp_path / "flag"))
    entries = resolve_classifiers([_WaitsTest, _CreatesTest])
    assert [(e.label, e.error) for e in entries] == [("waits_test", None), ("creates_test", None)]


@pytest.mark.parametrize("bad", ["nope", "logistic(bogus=1)"])
def test_the_first_bad_spec_is_named_and_no_build_is_left_running(bad):
    import multiprocessing

    from boneflare.benchmarks.harness.entries import resolve_classifiers

    with pytest.raises(BoneflareError, match=r"nope|bogus"):
        resolve_classifiers(["recist_naive", bad, "gradient_boosting", "combined_rule(x=2)"])
    assert multiprocessing.active_children() == []


def test_a_plan_and_its_versions_scan_the_installed_packages_once(monkeypatch):
    from boneflare.benchmarks.harness.versions import _distribution_of, run_versions
    from boneflare.classifiers import registry

    scans = []
    real = registry.entry_points

    def counted(**kwargs):
        scans.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(registry, "entry_points", counted)
    _distribution_of.cache_clear()  # classes already looked up would skip the scan
    plan = make_plan(BenchmarkConfig(classifiers="all", replicates=1, patients=50))
    assert len(plan.classifiers) >= 9 and len(scans) == 1
    run_versions(plan.classifiers)
    assert len(scans) == 2
    registry.names()
    registry.names()  # outside a plan, each call scans: a plugin installed meanwhile is found
    assert len(scans) == 4

"""The plan of a benchmark run: scenarios, classifiers, training jobs and work units.

A :class:`BenchmarkConfig` says what to run; :func:`make_plan` checks it (every
scenario, override, grid value and classifier name is validated before any work) and
turns it into a :class:`Plan`:

* one :class:`ScenarioPoint` per scenario and grid point, with a stable label;
* one :class:`TrainJob` per learned classifier and training scenario: a training
  cohort of ``training_patients`` patients from its own seed (purpose ``train``), fitted
  once and reused for every replicate of the run;
* one :class:`Unit` per (scenario point, replicate): a test cohort from its seed
  (purpose ``test``), shared by every classifier so comparisons are paired.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boneflare.benchmarks.harness.entries import (
    ClassifierEntry,
    ClassifierSpec,
    jsonable,
    resolve_classifiers,
)
from boneflare.benchmarks.harness.grid import GridAxis, grid_points, parse_grid
from boneflare.benchmarks.harness.seeds import cohort_seed, fit_seed, training_seed
from boneflare.simulator.choices import ENGINE_NAMES
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.scenarios import (
    Scenario,
    load_scenario,
    parse_override,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)
from boneflare.simulator.validation import check_choice, check_count, check_seed

ScenarioSpec = str | Path | Scenario
"""A preset name, the path of a TOML file, or a validated scenario."""

DEFAULT_REFERENCE = "recist_naive"
"""Reference of paired differences when the run includes it and none is named."""


@dataclass(frozen=True)
class BenchmarkConfig:
    """What a benchmark run computes (how it is executed is given separately).

    Attributes
    ----------
    classifiers : "all" or sequence of ClassifierSpec
        Registered names, instances or classes; ``"all"``: every registered one.
    scenarios : sequence of ScenarioSpec
        Test scenarios (each crossed with the grid).
    overrides : sequence of str
        ``section.field=value`` applied to every test scenario (``--set``).
    grid : sequence of str or mapping
        ``key=v1,v2`` options or ``{key: values}``; swept as a cartesian product.
    replicates : int
        Test cohorts per scenario point.
    patients : int
        Patients per test cohort.
    seed : int
        The run's seed; every cohort's seed is derived from it.
    train_scenario : ScenarioSpec or None
        Train learned classifiers on this scenario (``None``: on each test scenario).
    closed_loop : bool
        Also run each classifier as the decision policy inside the simulation.
    reference : str or None
        Reference classifier of paired differences (``None``: ``recist_naive`` if run).
    engine : str
        Simulation engine.
    max_training_patients : int or None
        Cap on every learned classifier's training cohort (``None``: each classifier's
        own ``training_patients``); for quick runs. Never applied to a classifier with
        ``uncapped_training`` (the Bayes oracle, the ceiling).

    """

    classifiers: str | Sequence[ClassifierSpec] = "all"
    scenarios: Sequence[ScenarioSpec] = ("paper",)
    overrides: Sequence[str] = ()
    grid: Sequence[str] | Mapping[str, Sequence[Any]] = ()
    replicates: int = 200
    patients: int = 1000
    seed: int = 0
    train_scenario: ScenarioSpec | None = None
    closed_loop: bool = False
    reference: str | None = None
    engine: str = "batched"
    max_training_patients: int | None = None


@dataclass(frozen=True)
class ScenarioPoint:
    """A test scenario at one grid point."""

    label: str
    scenario: Scenario
    hash: str
    source: str
    grid: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainJob:
    """Fit one learned classifier on one training cohort."""

    key: str
    classifier: str
    scenario_label: str
    scenario: Scenario
    scenario_hash: str
    seed: int
    random_state: int
    patients: int


@dataclass(frozen=True)
class Unit:
    """One test cohort: a scenario point and a replicate."""

    scenario: str
    replicate: int
    seed: int
    patients: int

    @property
    def name(self) -> str:
        """Stable file-system name: label slug, label hash, replicate."""
        return f"{_slug(self.scenario)}-{_short_hash(self.scenario)}-r{self.replicate:05d}"


@dataclass(frozen=True)
class Plan:
    """Everything a run does, checked and with every seed derived."""

    config: BenchmarkConfig
    points: tuple[ScenarioPoint, ...]
    classifiers: tuple[ClassifierEntry, ...]
    jobs: tuple[TrainJob, ...]
    units: tuple[Unit, ...]
    models: dict[tuple[str, str], str]
    reference: str | None
    axes: tuple[GridAxis, ...]
    train_point: ScenarioPoint | None

    def point(self, label: str) -> ScenarioPoint:
        """Return the scenario point of a label."""
        return next(p for p in self.points if p.label == label)

    def experiment(self) -> dict[str, Any]:
        """Return the run's definition as JSON-ready data (provenance; compared on resume)."""
        c = self.config
        return {
            "seed": c.seed,
            "replicates": c.replicates,
            "patients": c.patients,
            "engine": c.engine,
            "closed_loop": c.closed_loop,
            "reference": self.reference,
            "max_training_patients": c.max_training_patients,
            "grid": {a.key: list(a.texts) for a in self.axes},
            "scenarios": [_describe_point(p) for p in self.points],
            "train_scenario": _describe_point(self.train_point) if self.train_point else None,
            "classifiers": [e.describe() for e in self.classifiers],
        }

    def seeds(self) -> dict[str, list[dict[str, Any]]]:
        """Return every derived seed: test cohorts and training cohorts."""
        return {
            "units": [
                {"unit": u.name, "scenario": u.scenario, "replicate": u.replicate, "seed": u.seed}
                for u in self.units
            ],
            "training": [
                {
                    "model": j.key,
                    "classifier": j.classifier,
                    "scenario": j.scenario_label,
                    "seed": j.seed,
                    "random_state": j.random_state,
                    "patients": j.patients,
                }
                for j in self.jobs
            ],
        }


def _describe_point(p: ScenarioPoint) -> dict[str, Any]:
    return {
        "label": p.label,
        "source": p.source,
        "hash": p.hash,
        "grid": {k: jsonable(v) for k, v in p.grid.items()},
        "resolved": scenario_to_dict(p.scenario),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60] or "x"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _load(spec: ScenarioSpec, overrides: Sequence[str]) -> Scenario:
    """Load a scenario spec and apply ``section.field=value`` overrides."""
    if not isinstance(spec, Scenario):
        return load_scenario(spec, overrides)
    if not overrides:
        return spec
    raw = scenario_to_dict(spec)
    for text in overrides:
        path, value = parse_override(text)
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise BoneflareError(f"override {text}: {part!r} is not a section")
        node[path[-1]] = value
    return scenario_from_dict(raw)


def _points(config: BenchmarkConfig, axes: list[GridAxis]) -> list[ScenarioPoint]:
    if isinstance(config.scenarios, str | Path | Scenario):
        raise BoneflareError("scenarios must be a sequence of names, paths or scenarios")
    if not config.scenarios:
        raise BoneflareError("no test scenario given")
    points = []
    for spec in config.scenarios:
        base = _load(spec, list(config.overrides))
        source = spec.name if isinstance(spec, Scenario) else str(spec)
        for gp in grid_points(axes):
            merged = [*config.overrides, *(f"{k}={v}" for k, v in gp.texts)]
            scenario = _load(spec, merged) if gp.texts else base
            label = base.name + gp.suffix()
            points.append(
                ScenarioPoint(label, scenario, scenario_hash(scenario), source, gp.as_dict())
            )
    labels = [p.label for p in points]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise BoneflareError(f"two test scenarios share the name {repeated[0]!r}")
    return points


def _reference(config: BenchmarkConfig, labels: list[str]) -> str | None:
    if config.reference is None:
        return DEFAULT_REFERENCE if DEFAULT_REFERENCE in labels else None
    if config.reference not in labels:
        raise BoneflareError(
            f"reference classifier {config.reference!r} is not among the classifiers run "
            f"({', '.join(labels)})"
        )
    return config.reference


def _job_key(classifier: str, point: ScenarioPoint) -> str:
    return f"{_slug(classifier)}-{_slug(point.label)}-{point.hash[:8]}"


def _training_size(label: str, cls: type, cap: int | None) -> int:
    """Patients of a learned classifier's training cohort: its own size, capped unless exempt."""
    size = check_count(f"{label}.training_patients", cls.training_patients)
    if cap is None or cls.uncapped_training:
        return size
    return min(size, cap)


def make_plan(config: BenchmarkConfig) -> Plan:
    """Check a configuration and derive every scenario, seed, training job and unit.

    Parameters
    ----------
    config : BenchmarkConfig
        What to run.

    Returns
    -------
    Plan
        Scenario points, classifier entries, training jobs and units, with their seeds.

    Raises
    ------
    BoneflareError
        On any bad input: unknown scenario, classifier or engine, bad override or grid,
        non-positive counts, a repeated name, an absent reference.

    """
    check_count("replicates", config.replicates)
    check_count("patients", config.patients)
    check_seed(config.seed)
    check_choice("engine", config.engine, ENGINE_NAMES)
    cap = config.max_training_patients
    if cap is not None:
        check_count("max_training_patients", cap)
    axes = parse_grid(config.grid)
    points = _points(config, axes)
    entries = resolve_classifiers(config.classifiers)
    reference = _reference(config, [e.label for e in entries])
    train_point = None
    if config.train_scenario is not None:
        scenario = _load(config.train_scenario, [])
        train_point = ScenarioPoint(
            scenario.name, scenario, scenario_hash(scenario), str(config.train_scenario)
        )

    jobs: dict[str, TrainJob] = {}
    models: dict[tuple[str, str], str] = {}
    for entry in (e for e in entries if e.learned):
        cls = type(entry.prototype)
        for point in points:
            source = point if (train_point is None or cls.trains_on_test_scenario) else train_point
            key = _job_key(entry.label, source)
            models[(point.label, entry.label)] = key
            if key not in jobs:
                jobs[key] = TrainJob(
                    key=key,
                    classifier=entry.label,
                    scenario_label=source.label,
                    scenario=source.scenario,
                    scenario_hash=source.hash,
                    seed=training_seed(config.seed, source.hash, entry.label),
                    random_state=fit_seed(config.seed, source.hash, entry.label),
                    patients=_training_size(entry.label, cls, cap),
                )
    units = tuple(
        Unit(p.label, r, cohort_seed(config.seed, p.hash, r), config.patients)
        for p in points
        for r in range(config.replicates)
    )
    clash = {u.seed for u in units} & {j.seed for j in jobs.values()}
    if clash:  # a 2**-63 event per pair; refuse rather than test on training data
        raise BoneflareError(f"a training seed equals a test seed ({min(clash)}); change --seed")
    return Plan(
        config=config,
        points=tuple(points),
        classifiers=tuple(entries),
        jobs=tuple(jobs.values()),
        units=units,
        models=models,
        reference=reference,
        axes=tuple(axes),
        train_point=train_point,
    )

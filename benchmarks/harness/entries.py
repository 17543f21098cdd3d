"""The classifiers of a run: specs, instances or classes, resolved to entries.

Each entry has a label and an unfitted prototype; every unit and training job works on
a clone of it, so nothing fitted ever leaks from one cohort to another. The label is
the name of the classifier everywhere (results, leaderboard, report): the registered
name or ``module:Class`` of a text spec, or the class's ``name`` of an instance,
followed by its parameters when it has any, e.g. ``timing_window[window_days=60]``.

The prototype is built in a guarded child process
(:mod:`boneflare.benchmarks.harness.sandbox`): a classifier whose ``__init__`` fails
becomes an entry with an ``error``, recorded as a failure in every unit, and the run
goes on. A spec's parameters are still checked up front: an unknown parameter or a
value its class refuses is bad input, not a failure of the classifier.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.base import clone

from boneflare.benchmarks.harness.sandbox import DEFAULT_TIMEOUT, Guarded, start_guarded
from boneflare.benchmarks.harness.specs import (
    class_of,
    instantiate,
    label_of,
    non_default_params,
    parse_spec,
    split_specs,
)
from boneflare.benchmarks.harness.versions import distribution_of
from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.registry import names as classifier_names
from boneflare.classifiers.registry import one_scan
from boneflare.simulator.errors import BoneflareError, ClassifierSpecError

ClassifierSpec = str | FlareClassifier | type[FlareClassifier]
"""A spec (``name``, ``package.module:Class``, either with ``[param=value,...]``), an
instance (its parameters are kept) or a class (its defaults)."""

ALL = "all"
"""The spec that stands for every registered classifier."""


@dataclass(frozen=True)
class ClassifierEntry:
    """A classifier of the run: its label and an unfitted prototype.

    ``error`` says why the classifier could not be built (its prototype is then a bare,
    uninitialised instance of its class, whose class attributes alone are read).
    """

    label: str
    prototype: FlareClassifier
    error: str | None = None

    @property
    def learned(self) -> bool:
        """Whether it is fitted on a training cohort."""
        return bool(self.prototype.learned)

    def describe(self) -> dict[str, Any]:
        """Return its provenance: class, parameters, threshold, training settings."""
        cls = type(self.prototype)
        params = {} if self.error else self.prototype.get_params(deep=False)
        return {
            "label": self.label,
            "name": cls.name,
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "distribution": distribution_of(cls),
            "params": {k: jsonable(v) for k, v in params.items()},
            "learned": self.learned,
            "threshold": float(self.prototype.threshold),
            "training_patients": int(cls.training_patients) if self.learned else None,
            "trains_on_test_scenario": bool(cls.trains_on_test_scenario),
            "uncapped_training": bool(cls.uncapped_training),
            **({"error": self.error} if self.error else {}),
        }


def jsonable(value: Any) -> Any:
    """Return a JSON-ready stand-in for a classifier parameter (its repr when not plain data)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)


def _build_spec(
    cls: type[FlareClassifier], params: Mapping[str, Any], who: str
) -> FlareClassifier | ClassifierSpecError:
    """Build ``cls(**params)`` (in a guarded child); a refused parameter is returned.

    Without parameters, a failing ``__init__`` is the classifier's own failure (the
    guarded call records it); with them, it is taken as a refused value (bad input).
    """
    if not params:
        return cls()
    try:
        return instantiate(cls, params, who)
    except ClassifierSpecError as exc:
        return exc


@dataclass
class _Building:
    """A classifier being built in its guarded child: what :func:`_finish` needs."""

    label: str
    cls: type
    build: Guarded


def _start(label: str, cls: type, make: Any, args: tuple, timeout: float) -> _Building:
    """Start ``make(*args)`` in a guarded child; :func:`_finish` gives its entry."""
    return _Building(label, cls, start_guarded(make, *args, timeout=timeout))


def _finish(building: _Building) -> ClassifierEntry:
    """The entry of a started build, or of its failure (a refused parameter raises)."""
    outcome = building.build.outcome()
    label, cls = building.label, building.cls
    if isinstance(outcome.value, ClassifierSpecError):
        raise outcome.value
    if outcome.ok and isinstance(outcome.value, FlareClassifier):
        return ClassifierEntry(label, outcome.value)
    error = outcome.error or f"building it returned {type(outcome.value).__name__}"
    return ClassifierEntry(label, cls.__new__(cls), error)


def resolve_classifier(
    spec: ClassifierSpec, label: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> ClassifierEntry:
    """Return the entry of a text spec, an instance (cloned) or a class (defaults).

    Parameters
    ----------
    spec : str, FlareClassifier or its class
        See :data:`ClassifierSpec`.
    label : str, optional
        The name to give it (default: from the spec, see the module docstring).
    timeout : float
        Seconds the guarded child that builds (or clones) the instance may take.

    Raises
    ------
    BoneflareError
        On an unknown name, a module or class that cannot be imported, an unknown
        parameter or a bad value (naming it), or anything that is not a classifier.

    """
    return _finish(_start_building(spec, label, timeout))


def _start_building(spec: ClassifierSpec, label: str | None, timeout: float) -> _Building:
    """Check a spec and start building its instance (see :func:`resolve_classifier`)."""
    from boneflare.benchmarks.harness.calls import construct

    if isinstance(spec, str):
        parsed = parse_spec(spec)
        cls = class_of(parsed)
        name = label or label_of(parsed.target, parsed.params)
        return _start(name, cls, _build_spec, (cls, parsed.params, parsed.target), timeout)
    if inspect.isclass(spec) and issubclass(spec, FlareClassifier):
        return _start(label or spec.name or spec.__name__, spec, construct, (spec,), timeout)
    if isinstance(spec, FlareClassifier):
        cls = type(spec)
        base = cls.name or cls.__name__
        name = label or label_of(base, non_default_params(spec))
        return _start(name, cls, clone, (spec,), timeout)
    raise BoneflareError(
        "a classifier must be a name, package.module:Class, a FlareClassifier or its "
        f"class, got {spec!r}"
    )


def registered() -> list[str]:
    """The registered classifier names (what ``all`` stands for); refuses an empty registry."""
    specs = classifier_names()
    if not specs:
        raise BoneflareError(
            "no classifier is registered (entry-point group boneflare.classifiers)"
        )
    return specs


def resolve_classifiers(
    wanted: str | Sequence[ClassifierSpec] | Mapping[str, ClassifierSpec],
    timeout: float = DEFAULT_TIMEOUT,
) -> list[ClassifierEntry]:
    """Resolve the classifiers of a run to entries.

    Parameters
    ----------
    wanted : str, sequence or mapping
        ``"all"`` or comma-separated specs (``all`` among them stands for every
        registered classifier); a sequence of specs, instances or classes; or a mapping
        from labels to them.
    timeout : float
        Seconds the guarded child that builds each instance may take.

    Raises
    ------
    BoneflareError
        If nothing is registered or given, a spec is bad (see
        :func:`resolve_classifier`), or two entries share a label.

    """
    with one_scan():  # the names are looked up in one scan of the installed packages
        if isinstance(wanted, Mapping):
            labelled = [(s, str(label)) for label, s in wanted.items()]
        else:
            items: list[ClassifierSpec] = (
                list(split_specs(wanted)) if isinstance(wanted, str) else list(wanted)
            )
            labelled = []
            for item in items:
                specs = registered() if isinstance(item, str) and item == ALL else [item]
                labelled.extend((s, None) for s in specs)
        entries = _build_all(labelled, timeout)
    if not entries:
        raise BoneflareError("no classifier given")
    labels = [e.label for e in entries]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise BoneflareError(f"classifier {repeated[0]!r} is given twice")
    return entries


def _build_all(
    labelled: Sequence[tuple[ClassifierSpec, str | None]], timeout: float
) -> list[ClassifierEntry]:
    """Build every classifier side by side, each in its guarded child; entries in order.

    Specs are checked in order, and the first bad one raises, as if they had been built
    one after the other; no child is left running.
    """
    started: list[_Building] = []
    try:
        for spec, label in labelled:
            started.append(_start_building(spec, label, timeout))
        return [_finish(building) for building in started]
    finally:
        for building in started:
            building.build.cancel()

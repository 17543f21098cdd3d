"""The classifiers of a run: specs, instances or classes, resolved to entries.

Each entry has a label and an unfitted prototype; every unit and training job works on
a clone of it, so nothing fitted ever leaks from one cohort to another. The label is
the name of the classifier everywhere (results, leaderboard, report): the registered
name or ``module:Class`` of a text spec, or the class's ``name`` of an instance,
followed by its parameters when it has any, e.g. ``timing_window[window_days=60]``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import packages_distributions, version
from typing import Any

from sklearn.base import clone

from boneflare.benchmarks.harness.specs import (
    class_of,
    instantiate,
    label_of,
    non_default_params,
    parse_spec,
    split_specs,
)
from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.registry import names as classifier_names
from boneflare.simulator.errors import BoneflareError

ClassifierSpec = str | FlareClassifier | type[FlareClassifier]
"""A spec (``name``, ``package.module:Class``, either with ``[param=value,...]``), an
instance (its parameters are kept) or a class (its defaults)."""

ALL = "all"
"""The spec that stands for every registered classifier."""


def distribution_of(cls: type) -> dict[str, str] | None:
    """The installed distribution that provides ``cls`` (name and version), if any."""
    top = cls.__module__.split(".")[0]
    names = packages_distributions().get(top)
    if not names:
        return None
    return {"name": names[0], "version": version(names[0])}


@dataclass(frozen=True)
class ClassifierEntry:
    """A classifier of the run: its label and an unfitted prototype."""

    label: str
    prototype: FlareClassifier

    @property
    def learned(self) -> bool:
        """Whether it is fitted on a training cohort."""
        return bool(self.prototype.learned)

    def describe(self) -> dict[str, Any]:
        """Return its provenance: class, parameters, threshold, training settings."""
        cls = type(self.prototype)
        return {
            "label": self.label,
            "name": cls.name,
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "distribution": distribution_of(cls),
            "params": {k: jsonable(v) for k, v in self.prototype.get_params(deep=False).items()},
            "learned": self.learned,
            "threshold": float(self.prototype.threshold),
            "training_patients": int(cls.training_patients) if self.learned else None,
            "trains_on_test_scenario": bool(cls.trains_on_test_scenario),
            "uncapped_training": bool(cls.uncapped_training),
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


def resolve_classifier(spec: ClassifierSpec, label: str | None = None) -> ClassifierEntry:
    """Return the entry of a text spec, an instance (cloned) or a class (defaults).

    Parameters
    ----------
    spec : str, FlareClassifier or its class
        See :data:`ClassifierSpec`.
    label : str, optional
        The name to give it (default: from the spec, see the module docstring).

    Raises
    ------
    BoneflareError
        On an unknown name, a module or class that cannot be imported, an unknown
        parameter or a bad value (naming it), or anything that is not a classifier.

    """
    if isinstance(spec, str):
        parsed = parse_spec(spec)
        instance = instantiate(class_of(parsed), parsed.params, parsed.target)
        return ClassifierEntry(label or label_of(parsed.target, parsed.params), instance)
    if inspect.isclass(spec) and issubclass(spec, FlareClassifier):
        instance = spec()
    elif isinstance(spec, FlareClassifier):
        instance = clone(spec)
    else:
        raise BoneflareError(
            "a classifier must be a name, package.module:Class, a FlareClassifier or its "
            f"class, got {spec!r}"
        )
    base = type(instance).name or type(instance).__name__
    return ClassifierEntry(label or label_of(base, non_default_params(instance)), instance)


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
) -> list[ClassifierEntry]:
    """Resolve the classifiers of a run to entries.

    Parameters
    ----------
    wanted : str, sequence or mapping
        ``"all"`` or comma-separated specs (``all`` among them stands for every
        registered classifier); a sequence of specs, instances or classes; or a mapping
        from labels to them.

    Raises
    ------
    BoneflareError
        If nothing is registered or given, a spec is bad (see
        :func:`resolve_classifier`), or two entries share a label.

    """
    if isinstance(wanted, Mapping):
        entries = [resolve_classifier(spec, str(label)) for label, spec in wanted.items()]
    else:
        items: list[ClassifierSpec] = (
            list(split_specs(wanted)) if isinstance(wanted, str) else list(wanted)
        )
        specs: list[ClassifierSpec] = []
        for item in items:
            specs.extend(registered() if isinstance(item, str) and item == ALL else [item])
        entries = [resolve_classifier(s) for s in specs]
    if not entries:
        raise BoneflareError("no classifier given")
    labels = [e.label for e in entries]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise BoneflareError(f"classifier {repeated[0]!r} is given twice")
    return entries

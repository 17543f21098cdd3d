"""The classifiers of a run: registered names, instances or classes, resolved to entries.

Each entry has a label (its registry name, or the class's ``name``) and an unfitted
prototype; every unit and training job works on a clone of it, so nothing fitted ever
leaks from one cohort to another.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.base import clone

from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.registry import get as get_classifier
from boneflare.classifiers.registry import names as classifier_names
from boneflare.simulator.errors import BoneflareError

ClassifierSpec = str | FlareClassifier | type[FlareClassifier]
"""A registered name, an instance (its parameters are kept) or a class (defaults)."""


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


def resolve_classifier(spec: ClassifierSpec) -> ClassifierEntry:
    """Return the entry of a registered name, an instance (cloned) or a class (defaults)."""
    if isinstance(spec, str):
        cls = get_classifier(spec)
        return ClassifierEntry(spec, cls())
    if inspect.isclass(spec) and issubclass(spec, FlareClassifier):
        instance = spec()
    elif isinstance(spec, FlareClassifier):
        instance = clone(spec)
    else:
        raise BoneflareError(
            f"a classifier must be a registered name, a FlareClassifier or its class, got {spec!r}"
        )
    return ClassifierEntry(type(instance).name or type(instance).__name__, instance)


def resolve_classifiers(wanted: str | Sequence[ClassifierSpec]) -> list[ClassifierEntry]:
    """Resolve ``"all"``, comma-separated names, or a sequence of specs to entries.

    Raises
    ------
    BoneflareError
        If nothing is registered or given, a name is unknown, a spec is not a
        classifier, or two entries share a label.

    """
    specs: Sequence[ClassifierSpec]
    if isinstance(wanted, str):
        if wanted == "all":
            specs = classifier_names()
            if not specs:
                raise BoneflareError(
                    "no classifier is registered (entry-point group boneflare.classifiers)"
                )
        else:
            specs = [s.strip() for s in wanted.split(",") if s.strip()]
    else:
        specs = list(wanted)
    if not specs:
        raise BoneflareError("no classifier given")
    entries = [resolve_classifier(s) for s in specs]
    labels = [e.label for e in entries]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise BoneflareError(f"classifier {repeated[0]!r} is given twice")
    return entries

"""Which installed distribution (and version) provides each classifier of a run.

Recorded in every session of a run's provenance, so a report can say exactly which
release of a plugin produced its numbers. A classifier defined outside any installed
distribution (a class in a script or a test module) has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

from boneflare.benchmarks.harness.entries import ClassifierEntry


def distribution_of(module: str) -> tuple[str | None, str | None]:
    """Name and version of the installed distribution that provides ``module``.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``boneflare.classifiers.rules``.

    Returns
    -------
    tuple
        ``(name, version)``, or ``(None, None)`` when no installed distribution holds
        the module's top-level package.

    """
    top = module.split(".")[0]
    names = metadata.packages_distributions().get(top, [])
    if not names:
        return None, None
    name = sorted(names)[0]
    try:
        return name, metadata.version(name)
    except metadata.PackageNotFoundError:
        return name, None


def classifier_distributions(entries: Sequence[ClassifierEntry]) -> dict[str, dict[str, Any]]:
    """Per classifier label: its class, distribution and version (JSON-ready)."""
    out = {}
    for entry in entries:
        cls = type(entry.prototype)
        name, version = distribution_of(cls.__module__)
        out[entry.label] = {
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "distribution": name,
            "version": version,
        }
    return out

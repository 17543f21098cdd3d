"""The versions a run's results depend on: boneflare's and each classifier's distribution.

Recorded in the provenance when a run starts; a resumed run compares them with the
installed ones, so that one leaderboard row is never scored partly by one version of
a classifier and partly by another.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from boneflare.classifiers.registry import group_entry_points, one_scan

if TYPE_CHECKING:
    from boneflare.benchmarks.harness.entries import ClassifierEntry
from boneflare.simulator import __version__

BONEFLARE = "boneflare"
"""Key of boneflare's own version (the simulator and the harness)."""


def distribution_of(cls: type) -> dict[str, str] | None:
    """The installed distribution that provides a class: its name and version, or None.

    Found through the entry point that registers the class, else through the
    distribution that installs its top-level package. Searched once per class and
    process (a search of the installed distributions takes tens of milliseconds; the
    class was loaded from one of them, whatever is installed later).
    """
    found = _distribution_of(cls)
    return dict(found) if found is not None else None


@cache
def _distribution_of(cls: type) -> dict[str, str] | None:
    target = f"{cls.__module__}:{cls.__qualname__}"
    for ep in group_entry_points():
        if ep.value.replace(" ", "") == target and ep.dist is not None:
            return {"name": ep.dist.name, "version": ep.dist.version}
    top = cls.__module__.split(".")[0]
    for name in metadata.packages_distributions().get(top, []):
        try:
            return {"name": name, "version": metadata.version(name)}
        except metadata.PackageNotFoundError:  # pragma: no cover - listed but gone
            continue
    return None


def _version_label(cls: type) -> str:
    """``"<distribution> <version>"`` of a class, or ``"unknown"``."""
    found = distribution_of(cls)
    return f"{found['name']} {found['version']}" if found else "unknown"


def run_versions(entries: Sequence[ClassifierEntry]) -> dict[str, str]:
    """The version of boneflare and, per classifier label, its distribution and version."""
    out = {BONEFLARE: __version__}
    with one_scan():
        out |= {e.label: _version_label(type(e.prototype)) for e in entries}
    return out


def changed(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str, str]]:
    """``(name, old version, new version)`` of everything whose version changed."""
    return [
        (name, old[name], version)
        for name, version in new.items()
        if name in old and old[name] != version
    ]

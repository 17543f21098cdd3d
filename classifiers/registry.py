"""Finding classifiers: the entry-point group ``boneflare.classifiers``.

Built-ins register through boneflare's own entry points, exactly as a third-party
package does: an entry point ``name = "package.module:ClassName"`` in the group
``boneflare.classifiers`` makes ``ClassName`` available under ``name`` with no change
to boneflare.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoints, entry_points

from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.errors import PluginLoadError, UnknownClassifierError

GROUP = "boneflare.classifiers"
"""The entry-point group scanned for classifiers."""

_scanned: EntryPoints | None = None  # the group's entry points, inside ``one_scan()``


@contextmanager
def one_scan() -> Iterator[None]:
    """Within the block, the installed distributions are scanned for the group once.

    Each scan reads the metadata of every installed distribution (about 30 ms here);
    resolving the nine names of a default benchmark scanned ten times. Outside the
    block every call scans afresh, so a plugin installed meanwhile is found.
    """
    global _scanned
    outer = _scanned
    if outer is None:
        _scanned = entry_points(group=GROUP)
    try:
        yield
    finally:
        _scanned = outer


def group_entry_points() -> EntryPoints:
    """The group's entry points: those of the enclosing :func:`one_scan`, else scanned now."""
    return _scanned if _scanned is not None else entry_points(group=GROUP)


def names() -> list[str]:
    """Return the registered classifier names, sorted (without importing them)."""
    return sorted({ep.name for ep in group_entry_points()})


def get(name: str) -> type[FlareClassifier]:
    """Return the classifier class registered under ``name``.

    Raises
    ------
    UnknownClassifierError
        If no entry point has that name (the message lists the known ones).
    PluginLoadError
        If the entry point fails to import or does not name a FlareClassifier subclass.
    """
    matches = [ep for ep in group_entry_points() if ep.name == name]
    if not matches:
        known = ", ".join(names()) or "none"
        raise UnknownClassifierError(f"unknown classifier {name!r}: known are {known}")
    ep = matches[0]
    try:
        cls = ep.load()
    except Exception as exc:  # a plugin's import error must not crash the caller
        raise PluginLoadError(f"classifier {name!r} ({ep.value}) failed to load: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, FlareClassifier)):
        raise PluginLoadError(f"classifier {name!r} ({ep.value}) is not a FlareClassifier")
    return cls


def available() -> dict[str, type[FlareClassifier]]:
    """Return every registered classifier class by name (raises on a broken plugin)."""
    return {name: get(name) for name in names()}


def create(name: str, **params: object) -> FlareClassifier:
    """Instantiate the classifier registered under ``name`` with ``params``."""
    return get(name)(**params)

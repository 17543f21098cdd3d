"""Finding classifiers: the entry-point group ``boneflare.classifiers``.

Built-ins register through boneflare's own entry points, exactly as a third-party
package does: an entry point ``name = "package.module:ClassName"`` in the group
``boneflare.classifiers`` makes ``ClassName`` available under ``name`` with no change
to boneflare.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.errors import PluginLoadError, UnknownClassifierError

GROUP = "boneflare.classifiers"
"""The entry-point group scanned for classifiers."""


def names() -> list[str]:
    """Return the registered classifier names, sorted (without importing them)."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def get(name: str) -> type[FlareClassifier]:
    """Return the classifier class registered under ``name``.

    Raises
    ------
    UnknownClassifierError
        If no entry point has that name (the message lists the known ones).
    PluginLoadError
        If the entry point fails to import or does not name a FlareClassifier subclass.
    """
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
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

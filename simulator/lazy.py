"""Names of a package imported on first use (PEP 562), so that importing it stays cheap.

``import boneflare``, ``boneflare.simulator`` and ``boneflare.simulator.engine`` list
their public names with the module each comes from; :func:`lazy_getattr` makes the
package's ``__getattr__`` that imports a name's module only when the name is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """Return a module ``__getattr__`` that imports ``exports[name]`` on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name to the dotted name of the module that defines it.

    Notes
    -----
    In a package's ``__init__``: ``__getattr__ = lazy_getattr(__name__, _EXPORTS)``.

    """

    def getattr_(name: str) -> object:
        """Import a public name from its module on first use (PEP 562)."""
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later uses skip this function
        return value

    return getattr_

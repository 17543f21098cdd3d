"""Names and modules imported on first use, so that importing boneflare stays cheap.

``import boneflare``, ``boneflare.simulator`` and ``boneflare.simulator.engine`` list
their public names with the module each comes from; :func:`lazy_getattr` makes the
package's ``__getattr__`` that imports a name's module only when the name is used.

:func:`lazy_module` stands for a module that only some functions of a module need:
the simulator's modules use it for pandas, which a run streamed to Parquet never needs
(its tables go from NumPy arrays to Arrow), and whose import took 0.45 s of that
command's 1.3 s start-up on the 2-core machine of docs/performance.md.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any


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


class LazyModule:
    """Stands for a module, imported at the first use of one of its attributes.

    The module is not put in ``sys.modules`` before that use, so other libraries that
    check for it there (pyarrow checks for pandas) see it only once it is imported.

    Parameters
    ----------
    name : str
        The module's dotted name.

    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        state = self.__dict__  # not ``self._module``: a copy made without __init__ has none
        module = state.get("_module")
        if module is None:
            if "_name" not in state:
                raise AttributeError(attribute)
            module = state["_module"] = importlib.import_module(state["_name"])
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy_module(name: str) -> Any:
    """Return a stand-in for module ``name`` that imports it at its first attribute use.

    Use it with the real import for type checkers::

        if TYPE_CHECKING:
            import pandas as pd
        else:
            pd = lazy_module("pandas")

    """
    return LazyModule(name)

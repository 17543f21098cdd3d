"""Declaring scenario parameters: value, unit, allowed range, meaning and source in one place.

Every model constant is a :func:`param` field of a frozen dataclass section. The loader
validates against these declarations and the documentation is generated from them, so the
two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParamSpec:
    """What is allowed for one scenario parameter, and what it means.

    Attributes
    ----------
    kind : str
        ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``.
    unit : str
        Unit of the value (``"1"`` for dimensionless, ``"day"``, ``"U/L"`` ...).
    doc : str
        One sentence saying what the parameter is.
    source : str
        Where the value comes from: a paper table/figure, a literature reference,
        ``"fitted"`` (by ``boneflare calibrate fit``) or ``"design"`` (a modelling choice).
    low, high : float or None
        Inclusive bounds of the allowed range.
    choices : tuple of str
        Allowed values of a ``"choice"`` parameter.

    """

    kind: str
    unit: str
    doc: str
    source: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and documentation."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{noun} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{noun} >= {self.low:g}"
        if self.high is not None:
            return f"{noun} <= {self.high:g}"
        return noun


def param(
    default: Any,
    *,
    unit: str = "1",
    doc: str,
    source: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """Declare a scenario parameter as a dataclass field carrying its :class:`ParamSpec`."""
    if choices:
        kind = "choice"
    elif isinstance(default, bool):
        kind = "bool"
    elif isinstance(default, int):
        kind = "int"
    else:
        kind = "float"
    spec = ParamSpec(kind, unit, doc, source, low, high, tuple(choices))
    return field(default=default, metadata={"spec": spec})


def spec_of(f: dataclasses.Field) -> ParamSpec | None:
    """Return the :class:`ParamSpec` of a dataclass field, or None for a sub-section."""
    return f.metadata.get("spec")


def section(cls: type) -> Any:
    """Declare a nested section field whose default is the section's own defaults."""
    return field(default_factory=cls)


__all__ = ["ParamSpec", "dataclass", "param", "section", "spec_of"]

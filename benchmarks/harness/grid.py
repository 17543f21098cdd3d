"""Parameter grids: ``--grid 'ct.interval_days=42,56,84'`` swept as a cartesian product.

A grid is data: a list of axes, each a dotted scenario parameter and its values. Every
point of the product gets a stable name, ``base[key=value,...]`` with the keys sorted,
so the same command always names its scenarios (and their result rows and unit files)
the same way, whatever order the ``--grid`` options were given in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from boneflare.simulator.errors import GridError
from boneflare.simulator.scenarios import parse_override

__all__ = ["GridAxis", "GridError", "GridPoint", "grid_points", "parse_axis", "parse_grid"]


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter.

    Attributes
    ----------
    key : str
        Dotted scenario parameter, e.g. ``ct.interval_days``.
    values : tuple
        Values in the order given, typed as TOML reads them (``42`` int, ``1.5`` float,
        ``true`` bool, a bare word a string).
    texts : tuple of str
        The values as written (used in point names).

    """

    key: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class GridPoint:
    """One point of a grid: a name suffix and the overrides it applies."""

    overrides: tuple[tuple[str, Any], ...]
    texts: tuple[tuple[str, str], ...]

    def suffix(self) -> str:
        """Return ``[k=v,...]`` with keys sorted (empty for the grid's only point of no axes)."""
        if not self.texts:
            return ""
        return "[" + ",".join(f"{k}={v}" for k, v in sorted(self.texts)) + "]"

    def as_dict(self) -> dict[str, Any]:
        """Return the overrides as a ``{dotted key: value}`` mapping."""
        return dict(self.overrides)


def parse_axis(text: str) -> GridAxis:
    """Parse one ``key=v1,v2,...`` option into a :class:`GridAxis`.

    Parameters
    ----------
    text : str
        A dotted scenario parameter, ``=``, and comma-separated values.

    Returns
    -------
    GridAxis
        The parameter and its typed values.

    Raises
    ------
    GridError
        If there is no ``=``, the key is empty or malformed, a value is empty, or a
        value repeats.

    Examples
    --------
    >>> parse_axis("ct.interval_days=42,56").values
    (42, 56)

    """
    if "=" not in text:
        raise GridError(f"grid {text!r} must look like section.field=value1,value2,...")
    key, _, rest = text.partition("=")
    key = key.strip()
    if not key or not all(part.strip() for part in key.split(".")) or " " in key:
        raise GridError(f"grid {text!r} has a malformed parameter name {key!r}")
    texts = tuple(part.strip() for part in rest.split(","))
    if not rest.strip() or any(not t for t in texts):
        raise GridError(f"grid {text!r} has an empty value (values are separated by commas)")
    if len(set(texts)) != len(texts):
        raise GridError(f"grid {text!r} repeats a value")
    values = tuple(parse_override(f"{key}={t}")[1] for t in texts)
    return GridAxis(key=key, values=values, texts=texts)


def parse_grid(options: Iterable[str] | Mapping[str, Sequence[Any]]) -> list[GridAxis]:
    """Parse ``--grid`` options (or a ``{key: values}`` mapping) into axes.

    Parameters
    ----------
    options : iterable of str or mapping
        ``"key=v1,v2"`` strings, or ``{key: [v1, v2]}``.

    Returns
    -------
    list of GridAxis
        In the order given.

    Raises
    ------
    GridError
        If an option is malformed or a key is given twice.

    """
    if isinstance(options, Mapping):
        axes = [
            parse_axis(f"{k}=" + ",".join(_text(v) for v in values))
            for k, values in options.items()
        ]
    else:
        axes = [parse_axis(o) for o in options]
    seen: set[str] = set()
    for axis in axes:
        if axis.key in seen:
            raise GridError(f"grid parameter {axis.key} is given twice")
        seen.add(axis.key)
    return axes


def _text(value: Any) -> str:
    """Write a Python value as the TOML text :func:`parse_axis` reads back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def grid_points(axes: Sequence[GridAxis]) -> list[GridPoint]:
    """Return the cartesian product of the axes, first axis slowest (one point if no axes)."""
    points = []
    for combo in itertools.product(*(range(len(a.values)) for a in axes)):
        chosen = list(zip(axes, combo, strict=True))
        points.append(
            GridPoint(
                overrides=tuple((a.key, a.values[j]) for a, j in chosen),
                texts=tuple((a.key, a.texts[j]) for a, j in chosen),
            )
        )
    return points
